/**
 * The suite's parts that need no agent: the shipped JSON Schemas (equal to what the zod schemas
 * generate), the seed's PASS rule, run ids and sidecars, case selection, and what the suite's
 * policy answers for the calls its cases provoke (real policy engine, a real fixture tree).
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decidePermission } from "../../src/agent/policy-permissions.js";
import { loadScript } from "../../src/model/scripted/script.js";
import { CASES, CASE_IDS, verdictOf } from "../../src/suite/cases.js";
import { PROMPTS } from "../../src/suite/case-bodies.js";
import { allocateRun, formatRunId, writeWithSidecar } from "../../src/suite/ledger.js";
import { DELETION_SENTINEL, policyContext, PROBE_DOC, SUITE_ASSETS, SUITE_FIXTURES, SUITE_MODEL_SCRIPT, suitePolicy } from "../../src/suite/policy.js";
import { runSuite, selectCases } from "../../src/suite/run-suite.js";
import { loadConfig } from "../../src/config.js";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { CaseResultSchema, RunSummarySchema, suiteJsonSchemas } from "../../src/suite/schemas.js";
import { fixturePaths } from "../../src/suite/workspace.js";

const temporary: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of temporary) await rm(dir, { recursive: true, force: true });
});

describe("the shipped JSON Schemas", () => {
  it("are exactly what the zod schemas generate (set KODO_WRITE_SUITE_SCHEMAS=1 to regenerate them)", async () => {
    for (const [name, schema] of Object.entries(suiteJsonSchemas())) {
      const file = path.join(SUITE_ASSETS, name);
      const expected = `${JSON.stringify(schema, null, 2)}\n`;
      if (process.env["KODO_WRITE_SUITE_SCHEMAS"] === "1") await writeFile(file, expected);
      expect(await readFile(file, "utf8"), `${name} is stale`).toBe(expected);
    }
  });

  it("name the seed's fields, all required, nothing else", async () => {
    const caseResult = JSON.parse(await readFile(path.join(SUITE_ASSETS, "case-result.schema.json"), "utf8")) as { required: string[]; additionalProperties: boolean; properties: Record<string, { const?: string }> };
    expect(caseResult.required).toEqual([
      "schema_id", "schema_version", "case_id", "stage", "expected_outcome", "actual_outcome", "status", "failure_code",
      "run_id", "duration_ms", "model_id", "transport", "repo_commit", "evidence",
    ]);
    expect(caseResult.additionalProperties).toBe(false);
    expect(caseResult.properties["schema_id"]?.const).toBe("opencode_dogfood_case_result");
    const summary = JSON.parse(await readFile(path.join(SUITE_ASSETS, "run-summary.schema.json"), "utf8")) as { required: string[]; properties: Record<string, { const?: string }> };
    expect(summary.required).toEqual(["schema_id", "schema_version", "run_id", "repo_commit", "total_cases", "passed", "failed", "skipped", "final_verdict", "stop_reason", "cases"]);
    expect(summary.properties["schema_id"]?.const).toBe("opencode_dogfood_run_summary");
  });

  const result = {
    schema_id: "opencode_dogfood_case_result",
    schema_version: "1.0",
    case_id: "T2B03",
    stage: "T2b",
    expected_outcome: "EXPECTED_FAIL",
    actual_outcome: "FAIL",
    status: "PASS",
    failure_code: "GITCLEANFAIL",
    run_id: "RUN_0001",
    duration_ms: 10,
    model_id: "kodo/scripted-1",
    transport: "opencode-http",
    repo_commit: "a".repeat(40),
    evidence: [
      { path: "evidence/T2B03/git_status.txt", sha256: "0".repeat(64) },
      { path: "evidence/T2B03/stdout.txt", sha256: "1".repeat(64) },
    ],
  };

  it("accept a result that follows the seed, refuse one that does not", () => {
    expect(CaseResultSchema.safeParse(result).success).toBe(true);
    const wrongCode = CaseResultSchema.safeParse({ ...result, failure_code: "MODIFICATIONFAIL" });
    expect(wrongCode.error?.issues.map((issue) => issue.message)).toEqual(["status does not follow from the outcome and the failure code"]);
    const unsorted = CaseResultSchema.safeParse({ ...result, evidence: [...result.evidence].reverse() });
    expect(unsorted.error?.issues.map((issue) => issue.message)).toEqual(["evidence must be sorted by path (LC_ALL=C)"]);
    expect(CaseResultSchema.safeParse({ ...result, extra: 1 }).success).toBe(false);
    expect(CaseResultSchema.safeParse({ ...result, run_id: "RUN_1" }).success).toBe(false);
    expect(CaseResultSchema.safeParse({ ...result, repo_commit: "HEAD" }).success).toBe(false);
  });

  it("check the summary's totals and verdict", () => {
    const cases = CASES.map((kase) => ({ case_id: kase.id, stage: kase.stage, expected_outcome: kase.expected, actual_outcome: null, status: "SKIPPED", failure_code: null, result: null }));
    const summary = { schema_id: "opencode_dogfood_run_summary", schema_version: "1.0", run_id: "RUN_0002", repo_commit: "b".repeat(40), total_cases: 15, passed: 0, failed: 0, skipped: 15, final_verdict: "PASS", stop_reason: null, cases };
    expect(RunSummarySchema.safeParse(summary).success).toBe(true);
    expect(RunSummarySchema.safeParse({ ...summary, skipped: 14 }).success).toBe(false);
    expect(RunSummarySchema.safeParse({ ...summary, stop_reason: "stopped" }).error?.issues[0]?.message).toBe("final_verdict must be FAIL");
  });
});

describe("the seed's PASS rule", () => {
  const kase = (id: string): (typeof CASES)[number] => CASES.find((entry) => entry.id === id) ?? CASES[0]!;
  it("passes SUCCESS as expected, and an expected failure only with its own code", () => {
    expect(verdictOf(kase("T1C01"), "SUCCESS", null)).toBe("PASS");
    expect(verdictOf(kase("T1C01"), "FAIL", "CLIFAIL")).toBe("FAIL");
    expect(verdictOf(kase("T1C03"), "FAIL", "MODELNOTFOUND")).toBe("PASS");
    expect(verdictOf(kase("T1C03"), "FAIL", "CLIFAIL")).toBe("FAIL");
    expect(verdictOf(kase("T4E02"), "SUCCESS", "EVIDENCEMISMATCH")).toBe("FAIL");
  });

  it("has the seed's 15 cases, stages and expected codes", () => {
    expect(CASES.map((entry) => `${entry.id}:${entry.stage}:${entry.expected}:${entry.expectedCode ?? ""}`)).toEqual([
      "T1C01:T1:SUCCESS:", "T1C02:T1:SUCCESS:", "T1C03:T1:EXPECTED_FAIL:MODELNOTFOUND",
      "T2A01:T2a:SUCCESS:", "T2A02:T2a:SUCCESS:", "T2A03:T2a:SUCCESS:",
      "T2B01:T2b:SUCCESS:", "T2B02:T2b:SUCCESS:", "T2B03:T2b:EXPECTED_FAIL:GITCLEANFAIL",
      "T3C01:T3:SUCCESS:", "T3C02:T3:SUCCESS:", "T3C03:T3:SUCCESS:", "T3C04:T3:SUCCESS:",
      "T4E01:T4:SUCCESS:", "T4E02:T4:EXPECTED_FAIL:TIMEOUTEXCEEDED",
    ]);
  });

  it("selects by stage and by case, in suite order", () => {
    expect(selectCases({}).map((entry) => entry.id)).toEqual([...CASE_IDS]);
    expect(selectCases({ stages: ["T4", "T1"] }).map((entry) => entry.id)).toEqual(["T1C01", "T1C02", "T1C03", "T4E01", "T4E02"]);
    expect(selectCases({ cases: ["T2B03", "T1C01"] }).map((entry) => entry.id)).toEqual(["T1C01", "T2B03"]);
    expect(selectCases({ stages: ["T1"], cases: ["T2B03"] })).toEqual([]);
  });
});

describe("the ledger", () => {
  it("numbers runs from the highest RUN_NNNN found, ignoring anything else", async () => {
    const ledger = await tempDir("kodo-suite-ledger-");
    expect((await allocateRun(ledger)).runId).toBe("RUN_0001");
    await mkdir(path.join(ledger, "RUN_0007"));
    await mkdir(path.join(ledger, "RUN_12345"));
    await writeFile(path.join(ledger, "RUN_0099"), "a file, not a run\n");
    await mkdir(path.join(ledger, "notes"));
    const next = await allocateRun(ledger);
    expect(next).toEqual({ runId: "RUN_0008", dir: path.join(ledger, "RUN_0008") });
    expect(formatRunId(42)).toBe("RUN_0042");
  });

  it("writes every file with a `<sha256> *<name>` sidecar", async () => {
    const dir = await tempDir("kodo-suite-sidecar-");
    const sha = await writeWithSidecar(path.join(dir, "stdout.txt"), "pong\n");
    expect(sha).toBe(createHash("sha256").update("pong\n").digest("hex"));
    expect(await readFile(path.join(dir, "stdout.txt.sha256"), "utf8")).toBe(`${sha} *stdout.txt\n`);
  });
});

describe("the suite's policy", () => {
  it("ships fixtures for every path the cases name", async () => {
    const paths = await fixturePaths();
    expect(paths).toContain(PROBE_DOC);
    expect(paths).toContain(DELETION_SENTINEL);
    expect(paths.every((entry) => !entry.includes("\\"))).toBe(true);
  });

  it("answers the calls the cases provoke: deletions GITCLEANFAIL, writes outside the allowlist MODIFICATIONFAIL", async () => {
    const policy = await suitePolicy();
    const tree = SUITE_FIXTURES;
    const ask = async (permission: string, metadata: Record<string, string>, patterns: string[] = []): Promise<string> => {
      const decision = await decidePermission(policy, policyContext(tree), { agent: "build", permission, patterns, metadata, directory: tree });
      return `${decision.action} ${decision.code}`;
    };
    expect(await ask("bash", { command: `rm ${DELETION_SENTINEL}` })).toBe("deny GITCLEANFAIL");
    expect(await ask("bash", { command: `ls && git rm -q ${DELETION_SENTINEL}` })).toBe("deny GITCLEANFAIL");
    expect(await ask("bash", { command: "find . -name '*.txt' -delete" })).toBe("deny GITCLEANFAIL");
    expect(await ask("bash", { command: "grep -rn rm docs" })).toBe("allow ALLOWED");
    // kodo commits the suite's work; history-destroying git keeps kodo's own code
    expect(await ask("bash", { command: "git add -A && git commit -m done" })).toBe("deny DENIED_BY_RULE");
    expect(await ask("bash", { command: "git status --short" })).toBe("allow ALLOWED");
    expect(await ask("bash", { command: "git reset --hard HEAD" })).toBe("deny DESTRUCTIVE_GIT");
    expect(await ask("bash", { command: "git checkout -- ." })).toBe("deny DESTRUCTIVE_GIT");
    expect(await ask("bash", { command: "git clean -fd" })).toBe("deny GITCLEANFAIL");
    // a deletion spelled so that no pattern sees it: the policy lets it through, the audit must catch it (suite-run test)
    expect(await ask("bash", { command: `node -e "require('fs').unlinkSync('${DELETION_SENTINEL}')"` })).toBe("allow ALLOWED");
    expect(await ask("edit", { filepath: path.join(tree, PROBE_DOC) })).toBe("allow ALLOWED");
    expect(await ask("edit", { filepath: path.join(tree, "scripts/opencode_dogfood/sandbox/slugify.mjs") })).toBe("allow ALLOWED");
    expect(await ask("edit", { filepath: path.join(tree, "docs/zz_scratch/other.md") })).toBe("deny MODIFICATIONFAIL");
    expect(await ask("edit", { filepath: path.join(tree, "scripts/opencode_dogfood/POLICY.md") })).toBe("deny MODIFICATIONFAIL");
    expect(await ask("edit", { filepath: path.join(tree, "README.md") })).toBe("deny MODIFICATIONFAIL");
  });
});

describe("the entry checks", () => {
  it("refuse a dirty tree (REPO_DIRTY) and a ledger inside the checkout that git does not ignore, before any run starts", async () => {
    const base = await tempDir("kodo-suite-entry-");
    const repo = await createSampleRepo(path.join(base, "repo"));
    const config = loadConfig({ KODO_HOME: path.join(base, "home") });
    await expect(runSuite({ config, repo, ledgerDir: path.join(repo, "artifacts", "ledger") })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await writeFile(path.join(repo, "scratch.txt"), "uncommitted\n");
    await expect(runSuite({ config, repo })).rejects.toMatchObject({ code: "REPO_DIRTY" });
    await expect(readdir(path.join(base, "home", "suite")).catch(() => [])).resolves.toEqual([]);
  });
});

describe("the shipped model script", () => {
  it("loads, and has rules for every case's marker except T1C03 (which must never reach the model)", () => {
    const script = loadScript(SUITE_MODEL_SCRIPT);
    const users = script.rules.map((rule) => `${rule.when?.user ?? ""} ${rule.when?.anyUser ?? ""}`);
    for (const id of CASE_IDS) {
      const covered = users.some((text) => text.includes(`KODO-SUITE:${id}`));
      expect(covered, id).toBe(id !== "T1C03");
    }
    expect(PROMPTS.T1C01.startsWith("KODO-SUITE:T1C01 ")).toBe(true);
  });
});
