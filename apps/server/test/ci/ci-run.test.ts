/**
 * `kodo ci run` as a CI job runs it: the built binary, a task file, no KODO_HOME (an ephemeral
 * home), real Postgres, DBOS and OpenCode, the scripted model. Each outcome's exit code,
 * result.json, junit.xml and evidence bundle, and nothing left behind.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { waitUntilGone } from "../support/processes.js";
import { exists, jobDir, jobEnv, readResult, runCli, tempDir, writeTaskFile, type CliRun, type ResultJson } from "./ci-helpers.js";
import { bash, caseRules, planRules, script, write } from "./ci-scripts.js";

let model: ScriptedModelServer;
let job: string;

beforeAll(async () => {
  model = await startScriptedModelServer({
    script: parseScript(
      script({
        plans: planRules(
          "bad-plan",
          { toolCalls: [{ name: "StructuredOutput", arguments: { summary: "", steps: [], files: [], risks: [], tests: [] } }] },
          { text: "I cannot make a plan." },
        ),
        builds: [...caseRules("success", [write("{{directory}}/src/hello.js", "export const hello = 'hello';\n")]), ...caseRules("deny", [bash("git clean -fdx")])],
      }),
    ),
  });
  job = await jobDir("kodo-citest-");
}, 60_000);

afterAll(async () => {
  await model?.close();
  if (job !== undefined) await rm(job, { recursive: true, force: true });
});

const env = (): Record<string, string> => jobEnv({ KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1", KODO_PLAN_ATTEMPTS: "2" });

interface Job {
  run: CliRun;
  out: string;
  result: ResultJson;
}

/** One CI job: a sample repository, a task file naming it, `kodo ci run`; then nothing of kodo may be left. */
async function ciJob(name: string, task: Record<string, unknown>, options: { env?: Record<string, string>; args?: string[] } = {}): Promise<Job> {
  const dir = await tempDir(job, `${name}-`);
  await createSampleRepo(path.join(dir, "repo"));
  // the repository is named relative to the task file's directory
  const file = await writeTaskFile(dir, "task.json", { repo: "repo", title: `ci ${name}`, prompt: `CASE:${name}: do as scripted.`, ...task });
  const out = path.join(dir, "out");
  const run = await runCli(["ci", "run", "--task-file", file, "--mission-timeout", "600", "--out", out, ...(options.args ?? [])], { cwd: dir, env: options.env ?? env() });
  const result = await readResult(out);
  if (result.home !== null && !result.homeKept) {
    expect(await exists(result.home), "the ephemeral home is removed").toBe(false);
    expect(await waitUntilGone(result.home, 15_000), "no process of the job's kodo is left").toEqual([]);
  }
  return { run, out, result };
}

async function verifyEvidence(dir: string): Promise<CliRun> {
  return runCli(["verify", dir], { cwd: job, env: jobEnv({}), killAfterMs: 60_000 });
}

describe("kodo ci run", () => {
  it("runs a task to Done: exit 0, result.json, a passing JUnit case and an evidence bundle kodo verify accepts", async () => {
    const { run, out, result } = await ciJob("success", {});
    expect(run.code, run.stderr).toBe(0);
    expect(result).toMatchObject({ status: "success", exitCode: 0, code: null, runStatus: "Done", evidenceVerified: true, homeKept: false, cleanupComplete: true });
    expect(result.runId).toMatch(/^run_/);
    expect(result.usage?.calls).toBeGreaterThanOrEqual(2);
    expect(result.durations.startupMs).toBeGreaterThan(0);
    expect(result.durations.runMs).toBeGreaterThan(0);
    expect(run.stdout).toContain("kodo ci: success");

    const junit = await readFile(path.join(out, "junit.xml"), "utf8");
    expect(junit).toContain('<testsuites name="kodo ci" tests="1" failures="0" errors="0"');
    expect(junit).toContain('<testcase classname="kodo.ci" name="ci success"');
    expect(junit).not.toContain("<failure");

    expect(result.evidenceDir).toBe(path.join(out, "evidence"));
    const verified = await verifyEvidence(path.join(out, "evidence"));
    expect(verified.code, verified.stderr).toBe(0);
    const diff = await readFile(path.join(out, "evidence", "diff.patch"), "utf8");
    expect(diff).toContain("src/hello.js");
    const history = JSON.parse(await readFile(path.join(out, "evidence", "status-history.json"), "utf8")) as Array<{ to_status: string }>;
    expect(history.map((row) => row.to_status)).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);
  });

  it("keeps the home with --keep-home", async () => {
    const { run, result } = await ciJob("success", {}, { args: ["--keep-home"] });
    expect(run.code, run.stderr).toBe(0);
    expect(result.homeKept).toBe(true);
    expect(result.home).not.toBeNull();
    const home = result.home ?? "";
    // the home holds the run; nothing runs in it any more
    expect(await exists(path.join(home, "runs", result.runId ?? "", "evidence", "manifest.json"))).toBe(true);
    expect(await waitUntilGone(home, 15_000)).toEqual([]);
    await rm(home, { recursive: true, force: true });
  });

  it("exits 1 when the task fails (a plan that is never valid: PLAN_INVALID), with a failing JUnit case naming the code", async () => {
    const { run, out, result } = await ciJob("bad-plan", {});
    expect(run.code, run.stderr).toBe(1);
    expect(result).toMatchObject({ status: "failed", exitCode: 1, code: "PLAN_INVALID", runStatus: "Failed", evidenceVerified: true });
    const junit = await readFile(path.join(out, "junit.xml"), "utf8");
    expect(junit).toContain('failures="1" errors="0"');
    expect(junit).toMatch(/<failure type="PLAN_INVALID" message="[^"]*"/);
    expect(run.stderr).toContain("kodo: PLAN_INVALID:");
  });

  it("exits 3 when a policy denies the agent (git clean -fdx under the default policy: GITCLEANFAIL)", async () => {
    const { run, out, result } = await ciJob("deny", {});
    expect(run.code, run.stderr).toBe(3);
    expect(result).toMatchObject({ status: "denied", exitCode: 3, code: "GITCLEANFAIL", runStatus: "Failed", evidenceVerified: true });
    expect(await readFile(path.join(out, "junit.xml"), "utf8")).toContain('<failure type="GITCLEANFAIL"');
    // the evidence shows the permission decision that denied it
    const approvals = JSON.parse(await readFile(path.join(out, "evidence", "approvals.json"), "utf8")) as Array<{ answered_by: string; decision: string; decided_by_policy: { code?: string } | null }>;
    expect(approvals).toContainEqual(expect.objectContaining({ answered_by: "kodo:policy", decision: "reject", decided_by_policy: expect.objectContaining({ code: "GITCLEANFAIL" }) }));
  });

  it("rejects a bad task file before starting anything: exit 4, the file, line, column and field named", async () => {
    const dir = await tempDir(job, "bad-file-");
    const file = await writeTaskFile(dir, "task.yaml", ["repo: .", "title: bad", "prompt: do it", "budget:", "  maxTokens: lots", "verify:", "  target: tests", "  maxAtempts: 2", ""].join("\n"));
    const out = path.join(dir, "out");
    const run = await runCli(["ci", "run", "--task-file", file, "--mission-timeout", "60", "--out", out], { cwd: dir, env: env(), killAfterMs: 60_000 });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`kodo: TASK_FILE_INVALID: ${file}:5:14: budget.maxTokens: `);
    expect(run.stderr).toContain(`${file}:8:3: verify.maxAtempts: unknown field "maxAtempts"`);
    const result = await readResult(out);
    expect(result).toMatchObject({ status: "invalid_task", exitCode: 4, code: "TASK_FILE_INVALID", home: null, runId: null });
    expect(await readFile(path.join(out, "junit.xml"), "utf8")).toContain('<error type="TASK_FILE_INVALID"');
  });

  it("treats a usage mistake as a job that could not run (exit 4, not 2: 2 is a mission timeout here)", async () => {
    const run = await runCli(["ci", "run", "--task-file", "x.json"], { cwd: job, env: env(), killAfterMs: 60_000 });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain("kodo: USAGE: --mission-timeout is required");
  });

  it("exits 4 CLIFAIL when the control plane cannot start (an unreachable DATABASE_URL), leaving nothing behind", async () => {
    const { run, out, result } = await ciJob("success", {}, { env: { ...env(), DATABASE_URL: "postgres://kodo:secret@127.0.0.1:1/kodo" } });
    expect(run.code, run.stderr).toBe(4);
    expect(result).toMatchObject({ status: "infrastructure_error", exitCode: 4, code: "CLIFAIL", runId: null, cause: { code: "DB_UNAVAILABLE" } });
    expect(result.message).not.toContain("secret");
    expect(await readFile(path.join(out, "junit.xml"), "utf8")).toContain('<error type="CLIFAIL"');
  });
});
