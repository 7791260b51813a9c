import type { Pool, PoolClient } from "pg";
import { KodoError } from "../lib/errors.js";
import { appendEvent } from "./events.js";
import { findRun } from "./runs.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

export type PlanDecision =
  | { kind: "approved"; decidedBy: string; decidedAt: string; comment: string | null }
  | { kind: "rejected"; decidedBy: string; decidedAt: string; reason: string };

interface ApprovalRow {
  decision: "approved" | "rejected";
  reason: string | null;
  decided_by: string;
  plan_hash: string;
  decided_at: Date;
}

function toDecision(row: ApprovalRow): PlanDecision {
  return row.decision === "approved"
    ? { kind: "approved", decidedBy: row.decided_by, decidedAt: row.decided_at.toISOString(), comment: row.reason }
    : { kind: "rejected", decidedBy: row.decided_by, decidedAt: row.decided_at.toISOString(), reason: row.reason ?? "" };
}

export async function findPlanDecision(db: Queryable, runId: string): Promise<PlanDecision | undefined> {
  const result = await db.query<ApprovalRow>(`SELECT * FROM kodo.plan_approvals WHERE run_id = $1`, [runId]);
  const row = result.rows[0];
  return row === undefined ? undefined : toDecision(row);
}

/**
 * Records the plan decision for a run waiting in PlanningReview (call inside a transaction).
 * A run that is not waiting is a RUN_NOT_WAITING conflict. While it still waits, the same decision
 * again is idempotent (so a client can retry); a different one is a CONFLICT.
 * Returns whether this call recorded it.
 */
export async function recordPlanDecision(
  db: Queryable,
  input: { runId: string; decision: "approved" | "rejected"; reason: string | null; decidedBy: string; planHash: string; at: Date },
): Promise<{ recorded: boolean; decision: PlanDecision }> {
  const run = await findRun(db, input.runId, true);
  if (run === undefined) throw new KodoError("NOT_FOUND", `run ${input.runId} not found`);
  const existing = await findPlanDecision(db, input.runId);
  if (run.status !== "PlanningReview") {
    throw new KodoError("RUN_NOT_WAITING", `run ${input.runId} is ${run.status}, not waiting for a plan decision`, {
      details: { runId: input.runId, status: run.status, ...(existing === undefined ? {} : { decision: existing.kind }) },
    });
  }
  if (existing !== undefined) {
    // Still waiting for the workflow to pick it up: the same decision again is a safe retry.
    if (existing.kind === input.decision) return { recorded: false, decision: existing };
    throw new KodoError("CONFLICT", `the plan of run ${input.runId} was already ${existing.kind}`, {
      details: { runId: input.runId, decision: existing.kind },
    });
  }
  await db.query(
    `INSERT INTO kodo.plan_approvals (run_id, decision, reason, decided_by, plan_hash, decided_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.runId, input.decision, input.reason, input.decidedBy, input.planHash, input.at],
  );
  if (input.decision === "approved") {
    await db.query(`UPDATE kodo.runs SET plan_approved_at = $2, updated_at = $2 WHERE id = $1`, [input.runId, input.at]);
  }
  await appendEvent(db, {
    type: "plan.decided",
    taskId: run.task_id,
    runId: run.id,
    decision: input.decision,
    reason: input.reason,
  });
  const decision = await findPlanDecision(db, input.runId);
  if (decision === undefined) throw new KodoError("INTERNAL", "plan decision vanished inside its transaction");
  return { recorded: true, decision };
}
