/**
 * The API and the workers can be separate processes on one Postgres: an API-only `kodo serve
 * --no-worker` (its own home, DATABASE_URL) takes the requests; the worker process runs the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { loadScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, until } from "../support/api.js";
import { makeHome, startKodoProcess, type KodoProcess } from "../support/kodo-process.js";
import { waitUntilGone } from "../support/processes.js";
import { DEMO_SCRIPT_PATH } from "../support/scripts.js";

let workerHome: string;
let apiHome: string;
let model: ScriptedModelServer;
let worker: KodoProcess;
let api: KodoProcess;

beforeAll(async () => {
  workerHome = await makeHome("kodo-worker-");
  apiHome = await makeHome("kodo-api-");
  model = await startScriptedModelServer({ script: loadScript(DEMO_SCRIPT_PATH) });
  worker = await startKodoProcess({ KODO_HOME: workerHome, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1" });
  const { databaseUrl } = JSON.parse(readFileSync(path.join(workerHome, "server.json"), "utf8")) as { databaseUrl: string };
  api = await startKodoProcess({ KODO_HOME: apiHome, DATABASE_URL: databaseUrl }, 60_000, ["--no-worker"]);
}, 180_000);

afterAll(async () => {
  expect(await api?.stop()).toBe(0);
  expect(await worker?.stop()).toBe(0);
  await model?.close();
  expect(await waitUntilGone(workerHome, 15_000)).toEqual([]);
  expect(await waitUntilGone(apiHome, 15_000)).toEqual([]);
}, 120_000);

describe("an API-only process and a worker process", () => {
  it("the API enqueues and decides, the worker runs the workflow, both see one truth", async () => {
    const health = await ok<{ worker: boolean; opencode: { url: string | null } }>(api.url, "GET", "/api/health");
    expect(health.worker).toBe(false);
    expect(health.opencode.url).toBeNull();
    const repo = await createSampleRepo(await mkdtemp(path.join(workerHome, "repo-")));
    const task = await ok<Task>(api.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: repo });
    const { runId } = await ok<ExecuteResponse>(api.url, "POST", `/api/tasks/${task.id}/execute`);
    await until("PlanningReview", async () => ((await ok<Run>(api.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));
    await ok(api.url, "POST", `/api/runs/${runId}/approve-plan`);
    const done = await until("Done", async () => {
      const run = await ok<Run>(worker.url, "GET", `/api/runs/${runId}`);
      return ["Done", "Failed"].includes(run.status) ? run : undefined;
    });
    expect(done.status).toBe("Done");
    expect(done.worktreePath).toContain(workerHome);
  });
});
