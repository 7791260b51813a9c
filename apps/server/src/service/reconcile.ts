import type { Pool } from "pg";
import { withTransaction } from "../db/database.js";
import type { Clock } from "../lib/ports.js";
import { activeRuns, changeRunStatus } from "../store/runs.js";
import type { RunControl } from "../workflow/runtime.js";

/**
 * At worker start (after DBOS has recovered this executor's pending workflows): every run the
 * database calls active must have a live workflow behind it. One that does not is ended with a
 * reason, never left looking "running".
 */
export async function reconcileRuns(
  pool: Pool,
  control: RunControl,
  clock: Clock,
  /** writes the evidence bundle of a run this ends (every end leaves evidence) */
  writeEvidence?: (runId: string) => Promise<unknown>,
): Promise<string[]> {
  const report: string[] = [];
  for (const run of await activeRuns(pool)) {
    const status = await control.workflowStatus(run.id);
    if (status === "PENDING" || status === "ENQUEUED" || status === "DELAYED") continue;
    const ending =
      status === "CANCELLED"
        ? { to: "Cancelled" as const, code: "CANCELLED", message: "the workflow was cancelled" }
        : status === undefined
          ? { to: "Failed" as const, code: "RUN_ORPHANED", message: "no workflow exists for this run" }
          : { to: "Failed" as const, code: "WORKFLOW_ENDED", message: `the workflow ended ${status} without finishing the run` };
    await withTransaction(pool, (tx) =>
      changeRunStatus(tx, {
        runId: run.id,
        to: ending.to,
        reason: `${ending.code}: ${ending.message}`,
        at: clock.now(),
        ...(ending.to === "Failed" ? { error: { code: ending.code, message: ending.message } } : {}),
      }),
    );
    report.push(`run ${run.id}: ${ending.code} (${ending.message})`);
    if (writeEvidence !== undefined) {
      // a bundle that cannot be written never changes how the run ended
      await writeEvidence(run.id).catch((error: unknown) => report.push(`run ${run.id}: evidence not written (${error instanceof Error ? error.message : String(error)})`));
    }
  }
  return report;
}
