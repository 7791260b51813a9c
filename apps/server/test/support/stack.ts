import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import type { Run } from "@kodo/contracts";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { ok, until } from "./api.js";
import { makeHome, startKodoProcess, type KodoProcess } from "./kodo-process.js";
import { waitUntilGone } from "./processes.js";

/** One end-to-end stack: a fresh kodo home, the scripted model, a sample repository, `kodo serve`. */
export interface Stack {
  home: string;
  model: ScriptedModelServer;
  repo: string;
  kodo: KodoProcess;
}

export async function startStack(options: { prefix: string; script: unknown; env?: Record<string, string> }): Promise<Stack> {
  const home = await makeHome(options.prefix);
  const model = await startScriptedModelServer({ script: parseScript(options.script) });
  const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
  const kodo = await startKodoProcess({ KODO_HOME: home, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1", ...options.env });
  return { home, model, repo, kodo };
}

/** Stops the stack and checks that kodo exited cleanly and left no process behind. */
export async function stopStack(stack: Stack | undefined): Promise<void> {
  if (stack === undefined) return;
  expect(await stack.kodo.stop()).toBe(0);
  await stack.model.close();
  expect(await waitUntilGone(stack.home, 15_000)).toEqual([]);
}

/** Waits (bounded) until the run is in one of the end statuses. */
export async function runEnded(url: string, runId: string, timeoutMs = 240_000): Promise<Run> {
  return until(`run ${runId} to end`, async () => {
    const run = await ok<Run>(url, "GET", `/api/runs/${runId}`);
    return ["Done", "Failed", "Rejected", "Cancelled"].includes(run.status) ? run : undefined;
  }, timeoutMs);
}
