/**
 * Every way a run ends leaves an evidence bundle (real `kodo serve`, OpenCode, Postgres, the
 * demo's scripted model): Done, Rejected and Failed from the workflow's WriteEvidence step,
 * Cancelled from the cancel. The built `kodo verify` accepts each and names what was tampered with.
 */
import { cp, mkdtemp, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, until } from "../support/api.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";
import { jobEnv, runCli } from "../ci/ci-helpers.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ prefix: "kodo-evidence-", script: demoScriptWith({}) });
}, 180_000);

afterAll(() => stopStack(stack), 120_000);

async function start(extra: Record<string, unknown>): Promise<string> {
  const task = await ok<Task>(stack.kodo.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: stack.repo, ...extra });
  return (await ok<ExecuteResponse>(stack.kodo.url, "POST", `/api/tasks/${task.id}/execute`)).runId;
}

async function waiting(runId: string): Promise<void> {
  await until("PlanningReview", async () => ((await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined), 240_000);
}

/** The run once it ended and its bundle is recorded (the step runs right after the end status). */
async function withEvidence(runId: string): Promise<Run> {
  await runEnded(stack.kodo.url, runId);
  return until(`the evidence of ${runId}`, async () => {
    const run = await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`);
    return run.evidencePath === null ? undefined : run;
  }, 60_000);
}

const verify = (dir: string, json = false): ReturnType<typeof runCli> => runCli(["verify", dir, ...(json ? ["--json"] : [])], { cwd: stack.home, env: jobEnv({}), killAfterMs: 60_000 });

async function json<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, "utf8")) as T;
}

async function expectBundle(run: Run, status: Run["status"]): Promise<string> {
  expect(run.status).toBe(status);
  const dir = run.evidencePath ?? "";
  expect(dir).toBe(path.join(stack.home, "runs", run.id, "evidence"));
  const verified = await verify(dir);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  expect(verified.stdout).toContain("evidence OK");
  const history = await json<Array<{ to_status: string }>>(path.join(dir, "status-history.json"));
  expect(history.at(-1)?.to_status).toBe(status);
  const manifest = await json<{ runId: string; taskId: string; kodoVersion: string; files: Array<{ path: string }> }>(path.join(dir, "manifest.json"));
  expect(manifest).toMatchObject({ runId: run.id, taskId: run.taskId, kodoVersion: "0.1.0" });
  // the manifest's hash is also in the database: an anchor outside the bundle
  const recorded = run.artifacts.find((artifact) => artifact.kind === "evidence");
  expect(recorded?.path).toBe(path.join(dir, "manifest.json"));
  return dir;
}

describe("the evidence bundle of a run", () => {
  let doneDir = "";

  it("is written when a run ends Done, with the plan, diff, ledger, decisions, history, events and artifacts", async () => {
    const run = await withEvidence(await start({ planApproval: "auto" }));
    doneDir = await expectBundle(run, "Done");
    const manifest = await json<{ files: Array<{ path: string }> }>(path.join(doneDir, "manifest.json"));
    const paths = manifest.files.map((file) => file.path);
    for (const expected of ["run.json", "task.json", "plan.json", "plan-decision.json", "diff.patch", "test-results.json", "ledger.json", "audit-findings.json", "approvals.json", "status-history.json", "events.json", "artifacts.json", "artifacts/plan.json", "artifacts/diff.patch", "artifacts/summary.json"]) {
      expect(paths).toContain(expected);
    }
    expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const ledger = await json<Array<{ op_key: string; step_id: string }>>(path.join(doneDir, "ledger.json"));
    expect(ledger.map((call) => call.op_key)).toEqual(run.modelCalls.map((call) => call.opKey));
    expect(await json(path.join(doneDir, "plan.json"))).toEqual(run.plan);
    expect(await readFile(path.join(doneDir, "diff.patch"), "utf8")).toContain("src/slugify.js");
    const decision = await json<{ decision: { decided_by: string } }>(path.join(doneDir, "plan-decision.json"));
    expect(decision.decision.decided_by).toBe("kodo:auto");
    const events = await json<Array<{ type: string }>>(path.join(doneDir, "events.json"));
    expect(events.map((event) => event.type)).toContain("task.status_changed");
  });

  it("names what was tampered with: a changed, a deleted and an added file (exit 1)", async () => {
    const copy = path.join(await mkdtemp(path.join(stack.home, "tampered-")), "evidence");
    await cp(doneDir, copy, { recursive: true });
    await writeFile(path.join(copy, "plan.json"), '{"summary":"something else"}\n');
    await unlink(path.join(copy, "ledger.json"));
    await writeFile(path.join(copy, "artifacts", "backdoor.sh"), "#!/bin/sh\n");
    const result = await verify(copy);
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n")).toEqual(expect.arrayContaining(["missing  ledger.json", "extra    artifacts/backdoor.sh", "changed  plan.json"]));
    expect(result.stderr).toContain("kodo: EVIDENCE_MISMATCH:");
    const asJson = await verify(copy, true);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ ok: false, missing: ["ledger.json"], extra: ["artifacts/backdoor.sh"], changed: ["plan.json"] });
    // the original is untouched and still verifies
    expect((await verify(doneDir)).code).toBe(0);
  });

  it("is written when the plan is rejected", async () => {
    const runId = await start({});
    await waiting(runId);
    await ok(stack.kodo.url, "POST", `/api/runs/${runId}/reject-plan`, { reason: "not like this" });
    await expectBundle(await withEvidence(runId), "Rejected");
  });

  it("is written when the run fails (nobody decided the plan in time: PLAN_DECISION_TIMEOUT)", async () => {
    const run = await withEvidence(await start({ planDecisionTimeoutSeconds: 3 }));
    const dir = await expectBundle(run, "Failed");
    expect((await json<{ error: { code: string } }>(path.join(dir, "run.json"))).error.code).toBe("PLAN_DECISION_TIMEOUT");
  });

  it("is written by the cancel itself when a run is cancelled (a cancelled workflow runs no more steps)", async () => {
    const runId = await start({});
    await waiting(runId);
    const cancelled = await ok<Run>(stack.kodo.url, "POST", `/api/runs/${runId}/cancel`);
    // written before the cancel answered
    expect(cancelled.evidencePath).not.toBeNull();
    await expectBundle(cancelled, "Cancelled");
  });
});
