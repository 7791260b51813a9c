/**
 * The mission watchdog of `kodo ci run`: whatever hangs — the model, or a tool the agent runs —
 * the job ends with exit 2 (MISSION_TIMEOUT) within its bound, the run is cancelled with its
 * evidence, and no process of the job's kodo (Postgres, OpenCode, the agent's commands) is left.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { processesMentioning, waitUntilGone } from "../support/processes.js";
import { exists, jobDir, jobEnv, readResult, runCli, tempDir, writeTaskFile } from "./ci-helpers.js";
import { TRUST_BASH, bash, caseRules, planRules, script } from "./ci-scripts.js";

/** Long enough for kodo to start and the run to reach what hangs on a loaded machine. */
const MISSION_SECONDS = 90;
/** Generous: the cancel, the evidence and the stop of everything after the deadline. */
const AFTER_DEADLINE_MS = 180_000;
/** the agent's hanging command, findable by its argument */
const SLEEP = "600.137";

let model: ScriptedModelServer;
let job: string;

beforeAll(async () => {
  model = await startScriptedModelServer({
    script: parseScript(script({ plans: planRules("hang-model", { hang: true }), builds: caseRules("hang-tool", [bash(`sleep ${SLEEP}`)]) })),
  });
  job = await jobDir("kodo-citimeout-");
}, 60_000);

afterAll(async () => {
  await model?.close();
  if (job !== undefined) await rm(job, { recursive: true, force: true });
});

async function timedOutJob(name: string, task: Record<string, unknown>): Promise<void> {
  const dir = await tempDir(job, `${name}-`);
  const repo = await createSampleRepo(path.join(dir, "repo"));
  const file = await writeTaskFile(dir, "task.json", { repo, title: `ci ${name}`, prompt: `CASE:${name}: do as scripted.`, ...task });
  const out = path.join(dir, "out");
  // no stall detector, no bash timeout in the way: only the mission watchdog ends this
  const env = jobEnv({ KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1", KODO_AGENT_STALL_MS: "3600000" });
  const run = await runCli(["ci", "run", "--task-file", file, "--mission-timeout", String(MISSION_SECONDS), "--out", out], {
    cwd: dir,
    env,
    killAfterMs: MISSION_SECONDS * 1000 + 2 * AFTER_DEADLINE_MS,
  });
  expect(run.code, run.stderr).toBe(2);
  expect(run.elapsedMs, "the job ends within its bound").toBeLessThan(MISSION_SECONDS * 1000 + AFTER_DEADLINE_MS);
  expect(run.stderr).toContain(`kodo: MISSION_TIMEOUT: the mission did not finish within ${MISSION_SECONDS} s`);

  const result = await readResult(out);
  expect(result).toMatchObject({ status: "mission_timeout", exitCode: 2, code: "MISSION_TIMEOUT", runStatus: "Cancelled", evidenceVerified: true, cleanupComplete: true, homeKept: false });
  const home = result.home ?? "";
  expect(home).not.toBe("");
  expect(await exists(home), "the ephemeral home is removed").toBe(false);
  expect(await waitUntilGone(home, 15_000), "no process of the job's kodo is left").toEqual([]);
  expect(await readFile(path.join(out, "junit.xml"), "utf8")).toContain('<failure type="MISSION_TIMEOUT"');
  const history = JSON.parse(await readFile(path.join(out, "evidence", "status-history.json"), "utf8")) as Array<{ to_status: string; reason: string | null }>;
  expect(history.at(-1)).toMatchObject({ to_status: "Cancelled", reason: expect.stringContaining("MISSION_TIMEOUT") });
}

describe("kodo ci run --mission-timeout", () => {
  it("ends a run whose model never answers: exit 2, the run cancelled, nothing left", async () => {
    await timedOutJob("hang-model", {});
    // the run got as far as the hanging call: the watchdog, not the start, ended it
    expect(model.stats().byRule["hang-model-plan"]).toBeGreaterThanOrEqual(1);
  });

  it("ends a run whose agent runs a command that never ends: exit 2, the command killed, nothing left", async () => {
    await timedOutJob("hang-tool", { policy: TRUST_BASH });
    expect(model.stats().byRule["hang-tool-0"]).toBeGreaterThanOrEqual(1);
    // the command ran in the agent's sandbox and died with it
    expect(await processesMentioning(SLEEP)).toEqual([]);
  });
});
