/**
 * What should have been settled by now: ledger rows left pending (a model call no turn deadline
 * ended) and agents' asks pending past their deadline (no permission bridge enforced it). Both read
 * only pending rows through partial indexes.
 */
import type { DoctorContext } from "../context.js";
import { fail, pass, warn, type Finding } from "../types.js";
import { usingDatabase } from "./database.js";

/** Any bridge expires an ask another worker left pending this long past its deadline (architecture.md). */
export const APPROVAL_GRACE_SECONDS = 60;

export async function checkPendingModelCalls(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "pending model calls", async (db) => {
    // no healthy call outlives the turn deadline; N minutes when that is longer
    const limitMinutes = Math.max(context.stuckMinutes, Math.ceil(context.config.agentTurnTimeoutMs / 60_000));
    const old = await db.query<{ id: string; run_id: string; step_id: string; agent: string; attempt: number; age_seconds: number; total: string }>(
      `SELECT id::text, run_id, step_id, agent, attempt, extract(epoch FROM now() - created_at)::float8 AS age_seconds, count(*) OVER ()::text AS total
         FROM kodo.model_calls
        WHERE status = 'pending' AND created_at < now() - make_interval(mins => $1)
        ORDER BY created_at LIMIT 20`,
      [limitMinutes],
    );
    const pending = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM kodo.model_calls WHERE status = 'pending'`)).rows[0]?.n ?? 0);
    const total = Number(old.rows[0]?.total ?? 0);
    const calls = old.rows.map((row) => ({ id: Number(row.id), runId: row.run_id, step: row.step_id, agent: row.agent, attempt: row.attempt, ageMinutes: Math.floor(row.age_seconds / 60) }));
    const details = { limitMinutes, pending, old: calls };
    if (total === 0) return pass(`${pending} model call${pending === 1 ? "" : "s"} in progress, none pending longer than ${limitMinutes} min`, details);
    const list = calls.map((call) => `${call.runId} ${call.step}#${call.attempt} (${call.ageMinutes} min)`).join(", ");
    const summary = `${total} model call${total === 1 ? "" : "s"} pending for more than ${limitMinutes} min: ${list}`;
    if ((await context.liveWorker()) === undefined) {
      return warn(`${summary}; no kodo worker runs for this home`, "start kodo serve: it reconciles pending calls against their OpenCode sessions (completed, or interrupted and re-sent)", details);
    }
    return fail(`${summary}, while a worker runs: the turn deadline did not end them`, "restart kodo serve (pending calls are reconciled at start); read <home>/logs/ for the turn", details);
  });
}

export async function checkOverdueApprovals(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "pending approvals", async (db) => {
    const overdue = await db.query<{ id: string; run_id: string; ask: string; overdue_seconds: number; total: string }>(
      `SELECT id, run_id, coalesce(permission, kind) AS ask, extract(epoch FROM now() - deadline_at)::float8 AS overdue_seconds, count(*) OVER ()::text AS total
         FROM kodo.approvals
        WHERE status = 'pending' AND deadline_at < now() - make_interval(secs => $1)
        ORDER BY deadline_at LIMIT 20`,
      [APPROVAL_GRACE_SECONDS],
    );
    const pending = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM kodo.approvals WHERE status = 'pending'`)).rows[0]?.n ?? 0);
    const total = Number(overdue.rows[0]?.total ?? 0);
    const asks = overdue.rows.map((row) => ({ id: row.id, runId: row.run_id, ask: row.ask, overdueSeconds: Math.round(row.overdue_seconds) }));
    const details = { pending, graceSeconds: APPROVAL_GRACE_SECONDS, overdue: asks };
    if (total === 0) return pass(pending === 0 ? "no agent asks wait for a person" : `${pending} agent ask${pending === 1 ? "" : "s"} wait for a person, none past its deadline`, details);
    const summary = `${total} agent ask${total === 1 ? " is" : "s are"} pending more than ${APPROVAL_GRACE_SECONDS} s past the deadline (${asks.map((ask) => `${ask.id} ${ask.ask}`).join(", ")})`;
    if ((await context.liveWorker()) === undefined) {
      return warn(`${summary}; no kodo worker runs for this home`, "start kodo serve: its permission bridge expires them at start and the agents ask again", details);
    }
    return fail(`${summary}, while a worker runs: no permission bridge enforces deadlines`, "restart kodo serve; read <home>/logs/ for the bridge", details);
  });
}
