/**
 * reconcileRuns at worker start: a run the database calls active with no live workflow behind it
 * is ended with a reason, never left looking "running", and leaves its evidence bundle.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "@kodo/contracts";
import { verifyBundle } from "../../src/evidence/index.js";
import { writeRunEvidence } from "../../src/evidence/run-evidence.js";
import { systemClock } from "../../src/lib/ports.js";
import { reconcileRuns } from "../../src/service/reconcile.js";
import { findRun, insertRun } from "../../src/store/runs.js";
import { startHarness, type Harness } from "../governance/harness.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness("reconcile");
}, 120_000);
afterAll(async () => {
  await harness?.close();
});

describe("reconcileRuns", () => {
  it("ends a run that has no workflow as Failed RUN_ORPHANED, with its evidence written", async () => {
    const created = await harness.call<Task>("POST", "/api/tasks", { title: "orphan", prompt: "p", repoPath: await harness.repo() });
    expect(created.status).toBe(201);
    // a run row without a DBOS workflow (as a crash between the two could leave, were they not one transaction)
    const runId = "run_orphan0001";
    await insertRun(harness.db.pool, { id: runId, taskId: created.body.id, at: new Date() });
    const runsDir = path.join(harness.db.dir, "runs");
    const report = await reconcileRuns(harness.db.pool, harness.control, systemClock, (id) => writeRunEvidence({ pool: harness.db.pool, runsDir, runId: id }));
    expect(report).toEqual([`run ${runId}: RUN_ORPHANED (no workflow exists for this run)`]);
    const run = await findRun(harness.db.pool, runId);
    expect(run?.status).toBe("Failed");
    const bundle = await verifyBundle(path.join(runsDir, runId, "evidence"));
    expect(bundle).toMatchObject({ ok: true, missing: [], extra: [], changed: [] });
    // nothing left to end: a second pass changes nothing
    expect(await reconcileRuns(harness.db.pool, harness.control, systemClock)).toEqual([]);
  });
});
