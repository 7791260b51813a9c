import path from "node:path";
import type { Pool, PoolClient } from "pg";
import type { ChangedFile, Plan, Review, Run, TaskStatus } from "@kodo/contracts";
import { isTerminal } from "@kodo/contracts";
import { checkTransition } from "../domain/status-machine.js";
import { KodoError } from "../lib/errors.js";
import { appendEvent } from "./events.js";
import { usageBy, ZERO_USAGE } from "./tasks.js";
import { listAttempts } from "./verification.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

export interface RunRow {
  id: string;
  task_id: string;
  workflow_id: string;
  status: TaskStatus;
  branch: string | null;
  worktree_path: string | null;
  base_commit: string | null;
  head_commit: string | null;
  session_id: string | null;
  plan: Plan | null;
  plan_approved_at: Date | null;
  review: Review | null;
  error_code: string | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** Inserts a run and points its task at it. The unique index refuses a second active run. */
export async function insertRun(db: Queryable, run: { id: string; taskId: string; at: Date }): Promise<void> {
  try {
    await db.query(
      `INSERT INTO kodo.runs (id, task_id, workflow_id, status, created_at, updated_at) VALUES ($1, $2, $1, 'Todo', $3, $3)`,
      [run.id, run.taskId, run.at],
    );
  } catch (error) {
    if (isUniqueViolation(error, "runs_one_active_per_task")) {
      throw new KodoError("RUN_ALREADY_ACTIVE", `task ${run.taskId} already has an active run`, { details: { taskId: run.taskId } });
    }
    throw error;
  }
  await db.query(`UPDATE kodo.tasks SET current_run_id = $2, status = 'Todo', updated_at = $3 WHERE id = $1`, [run.taskId, run.id, run.at]);
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== "object" || error === null) return false;
  const record = error as { code?: unknown; constraint?: unknown };
  return record.code === "23505" && (constraint === undefined || record.constraint === constraint);
}

export async function findRun(db: Queryable, id: string, lock = false): Promise<RunRow | undefined> {
  const result = await db.query<RunRow>(`SELECT * FROM kodo.runs WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [id]);
  return result.rows[0];
}

export async function activeRuns(db: Queryable): Promise<RunRow[]> {
  const result = await db.query<RunRow>(
    `SELECT * FROM kodo.runs WHERE status NOT IN ('Done', 'Failed', 'Rejected', 'Cancelled') ORDER BY created_at`,
  );
  return result.rows;
}

export type StatusChangeResult =
  | { kind: "changed"; from: TaskStatus; to: TaskStatus }
  | { kind: "unchanged"; status: TaskStatus }
  | { kind: "refused"; status: TaskStatus; reason: string };

/**
 * Moves a run (and its task) to `to`, writing the status history row and the event in the
 * caller's transaction. Re-applying the current status is a no-op (a re-run step after a crash);
 * a terminal run never changes again.
 */
export async function changeRunStatus(
  db: Queryable,
  change: { runId: string; to: TaskStatus; reason: string | null; at: Date; error?: { code: string; message: string } },
): Promise<StatusChangeResult> {
  const run = await findRun(db, change.runId, true);
  if (run === undefined) throw new KodoError("NOT_FOUND", `run ${change.runId} not found`);
  const check = checkTransition(run.status, change.to);
  if (check.kind === "same") return { kind: "unchanged", status: run.status };
  if (check.kind === "refused") return { kind: "refused", status: run.status, reason: check.reason };
  const finished = isTerminal(change.to) ? change.at : null;
  await db.query(
    `UPDATE kodo.runs SET status = $2, updated_at = $3, finished_at = coalesce($4, finished_at),
            error_code = coalesce($5, error_code), error_message = coalesce($6, error_message)
      WHERE id = $1`,
    [run.id, change.to, change.at, finished, change.error?.code ?? null, change.error?.message ?? null],
  );
  await db.query(`UPDATE kodo.tasks SET status = $2, updated_at = $3 WHERE id = $1 AND current_run_id = $4`, [
    run.task_id,
    change.to,
    change.at,
    run.id,
  ]);
  await db.query(
    `INSERT INTO kodo.status_history (task_id, run_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.task_id, run.id, run.status, change.to, change.reason, change.at],
  );
  await appendEvent(db, {
    type: "task.status_changed",
    taskId: run.task_id,
    runId: run.id,
    from: run.status,
    to: change.to,
    reason: change.reason,
  });
  return { kind: "changed", from: run.status, to: change.to };
}

export async function updateRunFields(
  db: Queryable,
  runId: string,
  fields: Partial<{
    branch: string;
    worktree_path: string;
    base_commit: string;
    head_commit: string | null;
    session_id: string;
    plan: Plan;
    review: Review;
  }>,
): Promise<void> {
  const entries = Object.entries(fields);
  if (entries.length === 0) return;
  const sets = entries.map(([column], index) => `${column} = $${index + 2}`);
  const values = entries.map(([column, value]) => (column === "plan" || column === "review" ? JSON.stringify(value) : value));
  await db.query(`UPDATE kodo.runs SET ${sets.join(", ")}, updated_at = now() WHERE id = $1`, [runId, ...values]);
}

interface HistoryRow {
  from_status: TaskStatus | null;
  to_status: TaskStatus;
  reason: string | null;
  at: Date;
}
interface CallRow {
  op_key: string;
  step_id: string;
  attempt: number;
  agent: string;
  status: "pending" | "completed" | "failed" | "interrupted";
  model_id: string | null;
  tokens_input: number;
  tokens_output: number;
  tokens_reasoning: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: string;
  duration_ms: number | null;
  created_at: Date;
}
interface ArtifactRow {
  kind: string;
  name: string;
  path: string;
  sha256: string;
  bytes: string;
}

/** The whole run as the API shows it: row, history, ledger, artifacts, usage. */
export async function loadRunView(db: Queryable, id: string): Promise<Run | undefined> {
  const row = await findRun(db, id);
  if (row === undefined) return undefined;
  const [history, calls, artifacts, usage, attempts] = await Promise.all([
    db.query<HistoryRow>(`SELECT from_status, to_status, reason, at FROM kodo.status_history WHERE run_id = $1 ORDER BY id`, [id]),
    db.query<CallRow>(`SELECT * FROM kodo.model_calls WHERE run_id = $1 ORDER BY id`, [id]),
    db.query<ArtifactRow>(`SELECT kind, name, path, sha256, bytes FROM kodo.artifacts WHERE run_id = $1 ORDER BY name`, [id]),
    usageBy(db, "run_id", [id]),
    listAttempts(db, id),
  ]);
  return {
    id: row.id,
    taskId: row.task_id,
    workflowId: row.workflow_id,
    status: row.status,
    branch: row.branch,
    worktreePath: row.worktree_path,
    baseCommit: row.base_commit,
    headCommit: row.head_commit,
    sessionId: row.session_id,
    plan: row.plan,
    planApprovedAt: row.plan_approved_at?.toISOString() ?? null,
    review: row.review,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? "" },
    history: history.rows.map((h) => ({ from: h.from_status, to: h.to_status, reason: h.reason, at: h.at.toISOString() })),
    attempts,
    modelCalls: calls.rows.map((c) => ({
      opKey: c.op_key,
      stepId: c.step_id,
      attempt: c.attempt,
      agent: c.agent,
      status: c.status,
      modelId: c.model_id,
      tokensInput: c.tokens_input,
      tokensOutput: c.tokens_output,
      tokensReasoning: c.tokens_reasoning,
      tokensCacheRead: c.tokens_cache_read,
      tokensCacheWrite: c.tokens_cache_write,
      costUsd: Number(c.cost_usd),
      durationMs: c.duration_ms,
      createdAt: c.created_at.toISOString(),
    })),
    artifacts: artifacts.rows.map((a) => ({ ...a, bytes: Number(a.bytes) })),
    usage: usage.get(id) ?? ZERO_USAGE,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    evidencePath: evidenceDir(artifacts.rows),
  };
}

/** Where the run's evidence bundle is: the directory of its recorded manifest (evidence/run-evidence.ts). */
function evidenceDir(artifacts: readonly ArtifactRow[]): string | null {
  const manifest = artifacts.find((artifact) => artifact.kind === "evidence" && artifact.name === "evidence/manifest.json");
  return manifest === undefined ? null : path.dirname(manifest.path);
}

export type { ChangedFile };
