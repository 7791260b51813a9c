/**
 * kodo's metrics as Prometheus families. Sources: kodo.runs (runs, run durations), kodo.model_calls
 * (the ledger: calls, tokens, cost, call durations), kodo.test_runs (verification durations),
 * dbos.workflow_status (the run queue), kodo.approvals (asks waiting), and this process (version,
 * worker, the OpenCode server's restarts). Totals are whole-history, so counters only grow.
 */
import type { Pool } from "pg";
import { TERMINAL_STATUSES, TaskStatus } from "@kodo/contracts";
import { KodoError, describeError } from "../lib/errors.js";
import { RUN_QUEUE } from "../workflow/runtime.js";
import type { HistogramSeries, MetricFamily, Sample } from "./exposition.js";
import { approvalTotals, modelCallTotals, queueTotals, runTotals, verifyTotals, type ModelCallRow } from "./queries.js";

/** seconds */
export const RUN_DURATION_BOUNDS = [60, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400] as const;
export const MODEL_CALL_DURATION_BOUNDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800] as const;
export const VERIFY_DURATION_BOUNDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

/** Each metrics query's server-side bound. */
export const METRICS_STATEMENT_TIMEOUT_MS = 5_000;

/** What this process knows about itself (from the app's health: the live OpenCodeServer in a worker). */
export interface ProcessFacts {
  version: string;
  worker: boolean;
  opencode: { restarts: number; healthy: boolean };
}

const TOKEN_KINDS = [
  ["input", "input"],
  ["output", "output"],
  ["reasoning", "reasoning"],
  ["cache_read", "cache_read"],
  ["cache_write", "cache_write"],
] as const satisfies readonly (readonly [string, keyof ModelCallRow])[];

function histogram(labels: Record<string, string>, row: { buckets: number[] }, count: number, sum: number): HistogramSeries {
  return { labels, buckets: row.buckets, count, sum };
}

/** Sums rows that share a key (the ledger's rows per status, folded per agent and step). */
function fold<T>(rows: readonly T[], key: (row: T) => string, add: (into: T | undefined, row: T) => T): Map<string, T> {
  const folded = new Map<string, T>();
  for (const row of rows) folded.set(key(row), add(folded.get(key(row)), row));
  return folded;
}

function ledgerFamilies(rows: readonly ModelCallRow[]): MetricFamily[] {
  const byStep = fold(
    rows,
    (row) => `${row.agent}\u0000${row.step}`,
    (into, row) =>
      into === undefined
        ? { ...row }
        : { ...into, input: into.input + row.input, output: into.output + row.output, reasoning: into.reasoning + row.reasoning, cache_read: into.cache_read + row.cache_read, cache_write: into.cache_write + row.cache_write, cost: into.cost + row.cost },
  );
  const steps = [...byStep.values()];
  const completed = rows.filter((row) => row.status === "completed");
  return [
    {
      name: "kodo_model_calls_total",
      help: "Model calls in the ledger (kodo.model_calls) by agent, workflow step and status.",
      type: "counter",
      samples: rows.map((row) => ({ labels: { agent: row.agent, step: row.step, status: row.status }, value: row.n })),
    },
    {
      name: "kodo_model_tokens_total",
      help: "Tokens recorded in the ledger by agent, workflow step and kind (input, output, reasoning, cache_read, cache_write).",
      type: "counter",
      samples: steps.flatMap((row) => TOKEN_KINDS.map(([kind, column]) => ({ labels: { agent: row.agent, step: row.step, kind }, value: Number(row[column]) }))),
    },
    {
      name: "kodo_model_cost_usd_total",
      help: "Model cost in USD recorded in the ledger (KODO_MODEL_COST prices) by agent and workflow step.",
      type: "counter",
      samples: steps.map((row) => ({ labels: { agent: row.agent, step: row.step }, value: row.cost })),
    },
    {
      name: "kodo_model_call_duration_seconds",
      help: "Duration of completed model calls (one agent turn through OpenCode, as the ledger timed it) by agent and workflow step.",
      type: "histogram",
      bounds: MODEL_CALL_DURATION_BOUNDS,
      series: completed.map((row) => histogram({ agent: row.agent, step: row.step }, row, row.timed, row.seconds)),
    },
  ];
}

/** Reads every total in one read-only snapshot; a database failure is DB_UNAVAILABLE (HTTP 503). */
export async function collectMetrics(pool: Pool, facts: ProcessFacts): Promise<MetricFamily[]> {
  let client;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new KodoError("DB_UNAVAILABLE", `metrics: cannot reach the database: ${describeError(error)}`, { retryable: true, cause: error });
  }
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await client.query(`SET LOCAL statement_timeout = ${METRICS_STATEMENT_TIMEOUT_MS}`);
    const runs = await runTotals(client, RUN_DURATION_BOUNDS);
    const calls = await modelCallTotals(client, MODEL_CALL_DURATION_BOUNDS);
    const verify = await verifyTotals(client, VERIFY_DURATION_BOUNDS);
    const queue = await queueTotals(client, RUN_QUEUE);
    const approvals = await approvalTotals(client);
    await client.query("COMMIT");

    const runOf = (status: string): (typeof runs)[number] | undefined => runs.find((row) => row.status === status);
    const process: MetricFamily[] = [
      { name: "kodo_build_info", help: "This kodo process; the label is its DBOS application version.", type: "gauge", samples: [{ labels: { version: facts.version }, value: 1 }] },
      { name: "kodo_worker", help: "1 when this process runs workflows (a worker), 0 for an API-only process.", type: "gauge", samples: [{ labels: {}, value: facts.worker ? 1 : 0 }] },
    ];
    if (facts.worker) {
      process.push(
        { name: "kodo_opencode_restarts_total", help: "Restarts of this worker's OpenCode server since the process started.", type: "counter", samples: [{ labels: {}, value: facts.opencode.restarts }] },
        { name: "kodo_opencode_up", help: "1 when this worker's OpenCode server is running.", type: "gauge", samples: [{ labels: {}, value: facts.opencode.healthy ? 1 : 0 }] },
      );
    }
    const runSamples: Sample[] = TaskStatus.options.map((status) => ({ labels: { status }, value: runOf(status)?.n ?? 0 }));
    return [
      ...process,
      { name: "kodo_runs", help: "Runs by status (kodo.runs).", type: "gauge", samples: runSamples },
      {
        name: "kodo_run_duration_seconds",
        help: "Duration of finished runs, from the run's start (execute) to its end status, plans waiting for review included.",
        type: "histogram",
        bounds: RUN_DURATION_BOUNDS,
        series: TERMINAL_STATUSES.map((status) => {
          const row = runOf(status);
          return histogram({ status }, row ?? { buckets: [] }, row?.finished ?? 0, row?.seconds ?? 0);
        }),
      },
      ...ledgerFamilies(calls),
      {
        name: "kodo_verify_duration_seconds",
        help: "Duration of verification attempts (the repository's tests in the sandbox, kodo.test_runs) by result class.",
        type: "histogram",
        bounds: VERIFY_DURATION_BOUNDS,
        series: verify.map((row) => histogram({ class: row.class }, row, row.n, row.seconds)),
      },
      { name: "kodo_queue_depth", help: "Runs waiting on the run queue for a worker (DBOS workflows ENQUEUED).", type: "gauge", samples: [{ labels: { queue: RUN_QUEUE }, value: queue.enqueued }] },
      {
        name: "kodo_queue_running",
        help: "Runs taken off the run queue and not finished (DBOS workflows PENDING: executing, or waiting durably, e.g. for a plan decision).",
        type: "gauge",
        samples: [{ labels: { queue: RUN_QUEUE }, value: queue.pending }],
      },
      { name: "kodo_approvals_pending", help: "Agents' asks waiting for a person (kodo.approvals pending).", type: "gauge", samples: [{ labels: {}, value: approvals.pending }] },
      { name: "kodo_approvals_overdue", help: "Pending asks already past their deadline (the permission bridge rejects them within seconds when a worker runs).", type: "gauge", samples: [{ labels: {}, value: approvals.overdue }] },
    ];
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    if (error instanceof KodoError) throw error;
    throw new KodoError("DB_UNAVAILABLE", `metrics: a query failed: ${describeError(error)}`, { retryable: true, cause: error });
  } finally {
    client.release();
  }
}
