/**
 * Crash recovery with real processes: `kodo serve` is killed with SIGKILL in the middle of a
 * build, then started again on the same home. The run resumes and finishes; nothing is left
 * running; no op_key appears twice; a completed model call is never requested again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, until } from "../support/api.js";
import { makeHome, startKodoProcess, type KodoProcess } from "../support/kodo-process.js";
import { waitUntilGone } from "../support/processes.js";
import { demoScriptWith } from "../support/scripts.js";

let home: string;
let model: ScriptedModelServer;
let kodo: KodoProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  home = await makeHome("kodo-recovery-");
  // The build's first model answer takes a while: the window in which kodo is killed.
  model = await startScriptedModelServer({ script: parseScript(demoScriptWith({ "build-write-source": { delayMs: 6000 } })) });
  env = { KODO_HOME: home, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1", KODO_MODEL_API_KEY: "test" };
}, 60_000);

afterAll(async () => {
  await kodo?.stop();
  await model?.close();
  expect(await waitUntilGone(home, 15_000)).toEqual([]);
}, 120_000);

async function runEnded(runId: string): Promise<Run> {
  return until(
    "the resumed run to end",
    async () => {
      const run = await ok<Run>(kodo!.url, "GET", `/api/runs/${runId}`);
      return ["Done", "Failed", "Cancelled"].includes(run.status) ? run : undefined;
    },
    180_000,
  );
}

describe("kill -9 in the middle of a build", () => {
  it("resumes the run on restart and finishes it exactly once", async () => {
    const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
    kodo = await startKodoProcess(env);
    const task = await ok<Task>(kodo.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: repo });
    const { runId } = await ok<ExecuteResponse>(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    await until("PlanningReview", async () => ((await ok<Run>(kodo!.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));
    await ok(kodo.url, "POST", `/api/runs/${runId}/approve-plan`);
    await until("the build's model request", async () => ((model.stats().byRule["build-write-source"] ?? 0) >= 1 ? true : undefined), 60_000);
    const leftover = JSON.parse(readFileSync(path.join(home, "opencode", "opencode.pid.json"), "utf8")) as { pid: number };

    await kodo.kill9();
    kodo = await startKodoProcess(env);

    // The OpenCode server the dead kodo left behind was found and stopped.
    expect(() => process.kill(leftover.pid, 0)).toThrow();
    const done = await runEnded(runId);
    expect(done.error).toBeNull();
    expect(done.status).toBe("Done");
    expect(done.history.map((change) => change.to)).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);

    const serverFile = JSON.parse(readFileSync(path.join(home, "server.json"), "utf8")) as { databaseUrl: string };
    const db = new pg.Pool({ connectionString: serverFile.databaseUrl, max: 1 });
    try {
      const duplicates = await db.query(`SELECT op_key FROM kodo.model_calls GROUP BY op_key HAVING count(*) > 1`);
      expect(duplicates.rowCount).toBe(0);
      const calls = await db.query<{ step_id: string; attempt: number; status: string }>(
        `SELECT step_id, attempt, status FROM kodo.model_calls WHERE run_id = $1 ORDER BY id`,
        [runId],
      );
      // The plan call completed before the crash and was never made again.
      expect(calls.rows.filter((row) => row.step_id === "CompilePlan")).toEqual([{ step_id: "CompilePlan", attempt: 1, status: "completed" }]);
      // The build call the crash cut off was either reconciled from the session or marked interrupted and re-sent once.
      const build = calls.rows.filter((row) => row.step_id === "Build");
      expect(build.filter((row) => row.status === "completed")).toHaveLength(1);
      expect(build.every((row) => row.status === "completed" || row.status === "interrupted")).toBe(true);
      const active = await db.query(`SELECT id FROM kodo.runs WHERE status NOT IN ('Done','Failed','Rejected','Cancelled')`);
      expect(active.rowCount).toBe(0);
    } finally {
      await db.end();
    }
    expect(model.stats().byRule["plan"]).toBe(1);
  });

  it("a graceful stop in the middle of a build does not fail the run: it resumes at the next start", async () => {
    const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
    kodo ??= await startKodoProcess(env);
    const task = await ok<Task>(kodo.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: repo });
    const { runId } = await ok<ExecuteResponse>(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    await until("PlanningReview", async () => ((await ok<Run>(kodo!.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));
    const before = model.stats().byRule["build-write-source"] ?? 0;
    await ok(kodo.url, "POST", `/api/runs/${runId}/approve-plan`);
    await until("the build's model request", async () => ((model.stats().byRule["build-write-source"] ?? 0) > before ? true : undefined), 60_000);

    expect(await kodo.stop()).toBe(0);
    kodo = await startKodoProcess(env);
    const done = await runEnded(runId);
    expect(done.error).toBeNull();
    expect(done.status).toBe("Done");
    const build = done.modelCalls.filter((call) => call.stepId === "Build");
    expect(build.filter((call) => call.status === "completed")).toHaveLength(1);
    expect(build.every((call) => call.status === "completed" || call.status === "interrupted")).toBe(true);
  });
});
