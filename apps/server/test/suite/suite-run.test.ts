/**
 * The whole dogfood suite, offline: real git, a real (sandboxed) OpenCode server, the shipped
 * scripted model, the real policy and worktree audit. The seed's verification matrix rows that a
 * passing run covers: P01–P04 pass, F02 (T1C03 MODELNOTFOUND), F03 (T2B03 GITCLEANFAIL) and F04
 * (T4E02 TIMEOUTEXCEEDED) pass as expected failures. The failing rows are in suite-failures.test.ts.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../src/evidence/bundle.js";
import { CASE_IDS } from "../../src/suite/cases.js";
import { runSuite, type SuiteReport } from "../../src/suite/run-suite.js";
import { CaseResultSchema, RunSummarySchema } from "../../src/suite/schemas.js";
import { DELETION_SENTINEL, PROBE_DOC } from "../../src/suite/policy.js";
import { runGit } from "../../src/workspace/git.js";
import { digestCheckout, evidenceText, leftovers, readResult, readSummary, repositoryUnderTest, sidecarProblems, suiteHome, type SuiteHome } from "./support.js";

let home: SuiteHome;
let repo = "";
let before = "";
let head = "";
let report: SuiteReport;
const logLines: string[] = [];

beforeAll(async () => {
  home = await suiteHome("full");
  repo = await repositoryUnderTest(home.base);
  before = await digestCheckout(repo);
  head = (await runGit(["rev-parse", "HEAD"], { cwd: repo })).stdout.trim();
  report = await runSuite({ config: home.config, repo, failFast: true, log: (line) => logLines.push(line) });
}, 600_000);

afterAll(async () => {
  await home?.cleanup();
});

/** The content of `file` at the tip of the suite's branch (the worktree itself is gone after a PASS). */
async function onBranch(file: string): Promise<string> {
  return (await runGit(["show", `${report.workspace.branch ?? "?"}:${file}`], { cwd: repo })).stdout;
}

describe("kodo suite run, offline", () => {
  it("runs all 15 cases and passes: RUN_0001, 15 passed, no stop", async () => {
    expect(report.summary, logLines.join("\n")).toMatchObject({ run_id: "RUN_0001", final_verdict: "PASS", total_cases: 15, passed: 15, failed: 0, skipped: 0, stop_reason: null });
    expect(report.runDir).toBe(path.join(home.home, "suite", "RUN_0001"));
    expect(report.model).toEqual({ kind: "scripted", id: "scripted-1" });
    const summary = await readSummary(report.runDir);
    expect(RunSummarySchema.parse(summary)).toEqual(report.summary);
    expect(summary.schema_id).toBe("opencode_dogfood_run_summary");
    expect(summary.repo_commit).toBe(head);
    expect(summary.cases.map((entry) => [entry.case_id, entry.status, entry.result])).toEqual(CASE_IDS.map((id) => [id, "PASS", `cases/${id}.result.json`]));
  });

  it("P01 [T1] T1C01: OpenCode is healthy and the ping comes back", async () => {
    const result = await readResult(report.runDir, "T1C01");
    expect(result).toMatchObject({ status: "PASS", actual_outcome: "SUCCESS", failure_code: null, model_id: "kodo/scripted-1", transport: "opencode-http", repo_commit: head });
    expect(await evidenceText(report.runDir, "T1C01", "stdout.txt")).toBe("pong\n");
    expect(await evidenceText(report.runDir, "T1C01", "stderr.txt")).toMatch(/GET \/global\/health: healthy true, OpenCode 1\.18\.33; agent sandboxed/);
  });

  it("P02 [T2a] T2A01: the analysis is answered and the tree stays clean", async () => {
    const result = await readResult(report.runDir, "T2A01");
    expect(result).toMatchObject({ status: "PASS", actual_outcome: "SUCCESS", failure_code: null });
    expect(await evidenceText(report.runDir, "T2A01", "git_status.txt")).toBe("");
    expect(result.evidence.map((entry) => entry.path)).not.toContain("evidence/T2A01/git_diff.txt");
    expect(await evidenceText(report.runDir, "T2A01", "stdout.txt")).toContain("scratch target");
    expect(await evidenceText(report.runDir, "T2A01", "worktree_check.txt")).toContain("kodo worktree: yes");
  });

  it("P03 [T2b] T2B01 writes the probe inside the allowlist; T2B02 appends to it", async () => {
    expect((await readResult(report.runDir, "T2B01")).status).toBe("PASS");
    expect(await evidenceText(report.runDir, "T2B01", "git_diff.txt")).toBe(`M\t${PROBE_DOC}\n`);
    expect(await evidenceText(report.runDir, "T2B01", "git_status.txt")).toBe(` M ${PROBE_DOC}\n`);
    expect((await readResult(report.runDir, "T2B02")).status).toBe("PASS");
    const probe = await onBranch(PROBE_DOC);
    expect(probe).toContain("- status: written by kodo suite T2B01\n");
    expect(probe.endsWith("This file is the kodo suite's scratch target.\n- appended by kodo suite T2B02\n")).toBe(true);
  });

  it("P04 [T3] T3C01 generates a function that compiles; the new file is in the evidence as item_01.mjs", async () => {
    const result = await readResult(report.runDir, "T3C01");
    expect(result).toMatchObject({ status: "PASS", actual_outcome: "SUCCESS", failure_code: null });
    expect(await evidenceText(report.runDir, "T3C01", "git_diff.txt")).toBe("A\tscripts/opencode_dogfood/sandbox/slugify.mjs\n");
    expect(await evidenceText(report.runDir, "T3C01", "item_01.mjs")).toBe(await onBranch("scripts/opencode_dogfood/sandbox/slugify.mjs"));
    expect(await evidenceText(report.runDir, "T3C01", "stderr.txt")).toContain("node --check scripts/opencode_dogfood/sandbox/slugify.mjs: ok");
  });

  it("T3C02 and T3C03: the fixed and the generated tests pass in the sandbox", async () => {
    expect(await evidenceText(report.runDir, "T3C02", "stderr.txt")).toMatch(/node --test \S+buggy_sum\.test\.mjs \(sandboxed\): exit 0/);
    expect(await evidenceText(report.runDir, "T3C03", "stderr.txt")).toMatch(/node --test \S+word_count\.test\.mjs \(sandboxed\): exit 0/);
    expect(await onBranch("scripts/opencode_dogfood/sandbox/fixtures/buggy_sum.mjs")).toContain("let index = 0;");
  });

  it("F02 [T1] T1C03: the invalid model is refused by the registry before any model call (MODELNOTFOUND)", async () => {
    const result = await readResult(report.runDir, "T1C03");
    expect(result).toMatchObject({ expected_outcome: "EXPECTED_FAIL", actual_outcome: "FAIL", failure_code: "MODELNOTFOUND", status: "PASS", model_id: "kodo/kodo-suite-no-such-model" });
    const stderr = await evidenceText(report.runDir, "T1C03", "stderr.txt");
    expect(stderr).toContain("OpenCode's registry: kodo/scripted-1");
    expect(stderr).toContain("model requests during the case: 0");
  });

  it("F03 [T2b] T2B03: the policy refuses the rm, the audit catches the deletion that slipped past it and restores the sentinel (GITCLEANFAIL)", async () => {
    const result = await readResult(report.runDir, "T2B03");
    expect(result).toMatchObject({ expected_outcome: "EXPECTED_FAIL", actual_outcome: "FAIL", failure_code: "GITCLEANFAIL", status: "PASS" });
    const stderr = await evidenceText(report.runDir, "T2B03", "stderr.txt");
    expect(stderr).toContain(`policy: denied bash "rm ${DELETION_SENTINEL}" (GITCLEANFAIL): rule suite-delete-commands`);
    expect(stderr).toContain(`audit: GITCLEANFAIL tracked_deleted ${DELETION_SENTINEL}`);
    expect(stderr).toContain(`audit: restored ${DELETION_SENTINEL}`);
    expect(await evidenceText(report.runDir, "T2B03", "git_status.txt")).toBe(` D ${DELETION_SENTINEL}\n`);
    expect(await evidenceText(report.runDir, "T2B03", "git_diff.txt")).toBe(`D\t${DELETION_SENTINEL}\n`);
    expect(await onBranch(DELETION_SENTINEL)).toContain("deletion sentinel");
  });

  it("F04 [T4] T4E02: a turn past its latency budget is stopped (TIMEOUTEXCEEDED); T4E01 survives an empty prompt", async () => {
    expect(await readResult(report.runDir, "T4E02")).toMatchObject({ actual_outcome: "FAIL", failure_code: "TIMEOUTEXCEEDED", status: "PASS" });
    expect(await evidenceText(report.runDir, "T4E02", "stderr.txt")).toContain("TIMEOUTEXCEEDED: session");
    expect(await readResult(report.runDir, "T4E01")).toMatchObject({ actual_outcome: "SUCCESS", status: "PASS" });
    expect(await evidenceText(report.runDir, "T4E01", "stdout.txt")).toBe("ok\nThe message was empty: there is nothing to do.\nready\n");
  });

  it("writes the seed's evidence for every case, sorted by path, each file with a matching sidecar", async () => {
    for (const id of CASE_IDS) {
      const result = CaseResultSchema.parse(await readResult(report.runDir, id));
      const paths = result.evidence.map((entry) => entry.path);
      expect(paths, id).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
      for (const name of ["git_status.txt", "repo_commit.txt", "stderr.txt", "stdout.txt", "worktree_check.txt"]) expect(paths, id).toContain(`evidence/${id}/${name}`);
      for (const entry of result.evidence) {
        const content = await readFile(path.join(report.runDir, entry.path));
        expect(createHash("sha256").update(content).digest("hex"), entry.path).toBe(entry.sha256);
      }
      expect((await evidenceText(report.runDir, id, "repo_commit.txt")).trim()).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(await sidecarProblems(report.runDir)).toEqual([]);
    // the run directory is sealed as one bundle: kodo verify checks it whole
    expect(await verifyBundle(report.runDir)).toMatchObject({ ok: true, missing: [], extra: [], changed: [] });
  });

  it("removes its worktree with git worktree remove after the PASS, keeps the work on its branch, and leaves the user's checkout and no process behind", async () => {
    expect(report.workspace.removed).toBe(true);
    expect(await stat(report.workspace.directory ?? "").catch(() => undefined)).toBeUndefined();
    expect((await runGit(["worktree", "list", "--porcelain"], { cwd: repo })).stdout).not.toContain("suite-run-0001");
    const log = (await runGit(["log", "--format=%s", `${head}..${report.workspace.branch ?? "?"}`], { cwd: repo })).stdout;
    expect(log).toContain("kodo suite RUN_0001: the dogfood fixtures");
    expect(log).toContain("kodo suite RUN_0001 T3C01: PASS");
    expect(log).not.toContain("T2B03");
    expect(await digestCheckout(repo)).toBe(before);
    expect(leftovers(home.stateDir)).toEqual([]);
  });
});
