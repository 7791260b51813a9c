/**
 * The SQL behind GET /metrics: aggregates only, each served by an index (migration 007 and the
 * partial indexes of 001/004 and DBOS), read in one read-only snapshot with a short statement timeout.
 */
import type { PoolClient } from "pg";

/** `ARRAY[count(*) FILTER (WHERE expr <= $n), …]` for each bound, the bounds appended to `params`. */
function cumulative(expr: string, bounds: readonly number[], params: unknown[]): string {
  const columns = bounds.map((bound) => {
    params.push(bound);
    return `count(*) FILTER (WHERE ${expr} <= $${params.length})`;
  });
  return `ARRAY[${columns.join(", ")}]::float8[]`;
}

export interface RunRow {
  status: string;
  n: number;
  finished: number;
  seconds: number;
  buckets: number[];
}

/** kodo.runs by status, and the duration (created → finished) of finished runs: index-only on runs_metrics_idx. */
export async function runTotals(client: PoolClient, bounds: readonly number[]): Promise<RunRow[]> {
  const params: unknown[] = [];
  const buckets = cumulative("d", bounds, params);
  const sql = `
    SELECT status, count(*)::float8 AS n, count(d)::float8 AS finished, coalesce(sum(d), 0)::float8 AS seconds, ${buckets} AS buckets
      FROM (SELECT status, greatest(0, extract(epoch FROM finished_at - created_at))::float8 AS d FROM kodo.runs) AS runs
     GROUP BY status`;
  return (await client.query<RunRow>(sql, params)).rows;
}

export interface ModelCallRow {
  agent: string;
  step: string;
  status: string;
  n: number;
  input: number;
  output: number;
  reasoning: number;
  cache_read: number;
  cache_write: number;
  cost: number;
  timed: number;
  seconds: number;
  buckets: number[];
}

/** The ledger by agent, step and status: index-only on model_calls_metrics_idx. */
export async function modelCallTotals(client: PoolClient, bounds: readonly number[]): Promise<ModelCallRow[]> {
  const params: unknown[] = [];
  const buckets = cumulative("duration_ms / 1000.0", bounds, params);
  const sql = `
    SELECT agent, step_id AS step, status, count(*)::float8 AS n,
           sum(tokens_input)::float8 AS input, sum(tokens_output)::float8 AS output, sum(tokens_reasoning)::float8 AS reasoning,
           sum(tokens_cache_read)::float8 AS cache_read, sum(tokens_cache_write)::float8 AS cache_write, sum(cost_usd)::float8 AS cost,
           count(duration_ms)::float8 AS timed, coalesce(sum(duration_ms), 0)::float8 / 1000 AS seconds, ${buckets} AS buckets
      FROM kodo.model_calls
     GROUP BY agent, step_id, status
     ORDER BY agent, step_id, status`;
  return (await client.query<ModelCallRow>(sql, params)).rows;
}

export interface VerifyRow {
  class: string;
  n: number;
  seconds: number;
  buckets: number[];
}

/** Verification attempts by class: index-only on test_runs_metrics_idx. */
export async function verifyTotals(client: PoolClient, bounds: readonly number[]): Promise<VerifyRow[]> {
  const params: unknown[] = [];
  const buckets = cumulative("duration_ms / 1000.0", bounds, params);
  const sql = `
    SELECT class, count(*)::float8 AS n, coalesce(sum(duration_ms), 0)::float8 / 1000 AS seconds, ${buckets} AS buckets
      FROM kodo.test_runs GROUP BY class ORDER BY class`;
  return (await client.query<VerifyRow>(sql, params)).rows;
}

/** DBOS workflows in flight on `queue`: idx_workflow_status_in_flight_v2 (partial on ENQUEUED/PENDING). */
export async function queueTotals(client: PoolClient, queue: string): Promise<{ enqueued: number; pending: number }> {
  const rows = (
    await client.query<{ status: string; n: number }>(
      `SELECT status, count(*)::float8 AS n FROM dbos.workflow_status WHERE queue_name = $1 AND status IN ('ENQUEUED', 'PENDING') GROUP BY status`,
      [queue],
    )
  ).rows;
  const of = (status: string): number => rows.find((row) => row.status === status)?.n ?? 0;
  return { enqueued: of("ENQUEUED"), pending: of("PENDING") };
}

/** Agents' asks waiting for a person: approvals_pending_idx (partial on pending). */
export async function approvalTotals(client: PoolClient): Promise<{ pending: number; overdue: number }> {
  const row = (
    await client.query<{ pending: number; overdue: number }>(
      `SELECT count(*)::float8 AS pending, count(*) FILTER (WHERE deadline_at < now())::float8 AS overdue FROM kodo.approvals WHERE status = 'pending'`,
    )
  ).rows[0];
  return { pending: row?.pending ?? 0, overdue: row?.overdue ?? 0 };
}
