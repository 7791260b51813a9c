/**
 * Budgets: what a task may spend. Tokens and cost add up over every run of the task (from the
 * ledger); wall time and build attempts are per run. Time waiting for a plan decision is not the
 * agent's and does not count. A repository's budget caps every task in it: the lower limit holds.
 */
import type { Pool } from "pg";
import type { Budget } from "@kodo/contracts";
import { KodoError } from "../lib/errors.js";

export type { Budget } from "@kodo/contracts";

const LIMITS = ["maxTokens", "maxCostUsd", "maxWallSeconds", "maxBuildAttempts"] as const;

/** Per limit, the lower of the task's and the repository's. */
export function effectiveBudget(task: Budget | undefined | null, repo: Budget | undefined | null): Budget {
  const budget: Budget = {};
  for (const limit of LIMITS) {
    const values = [task?.[limit], repo?.[limit]].filter((value): value is number => value !== undefined);
    if (values.length > 0) budget[limit] = Math.min(...values);
  }
  return budget;
}

export function isUnlimited(budget: Budget): boolean {
  return LIMITS.every((limit) => budget[limit] === undefined);
}

export interface BudgetSpent {
  /** input + output + reasoning tokens of the task's completed model calls */
  tokens: number;
  costUsd: number;
  /** wall time of the run so far, without the time waiting for a plan decision */
  wallMs: number;
}

/** What the task and the run have spent by `now`. */
export async function budgetSpent(pool: Pick<Pool, "query">, o: { taskId: string; runId: string; now: Date }): Promise<BudgetSpent> {
  const calls = await pool.query<{ tokens: string | null; cost: string | null }>(
    `SELECT sum(tokens_input + tokens_output + tokens_reasoning) AS tokens, sum(cost_usd) AS cost
       FROM kodo.model_calls WHERE task_id = $1 AND status = 'completed'`,
    [o.taskId],
  );
  const history = await pool.query<{ to_status: string; at: Date }>(`SELECT to_status, at FROM kodo.status_history WHERE run_id = $1 ORDER BY id`, [o.runId]);
  return {
    tokens: Number(calls.rows[0]?.tokens ?? 0),
    costUsd: Number(calls.rows[0]?.cost ?? 0),
    wallMs: workingTimeMs(history.rows, o.now),
  };
}

/** Time since the first status of the run, minus the spans spent in PlanningReview (waiting for a person). */
export function workingTimeMs(history: readonly { to_status: string; at: Date }[], now: Date): number {
  const first = history[0];
  if (first === undefined) return 0;
  let waiting = 0;
  let reviewSince: number | undefined;
  for (const entry of history) {
    const at = entry.at.getTime();
    if (reviewSince !== undefined) {
      waiting += at - reviewSince;
      reviewSince = undefined;
    }
    if (entry.to_status === "PlanningReview") reviewSince = at;
  }
  if (reviewSince !== undefined) waiting += now.getTime() - reviewSince;
  return Math.max(0, now.getTime() - first.at.getTime() - waiting);
}

/** The first limit already reached, as a BUDGET_EXCEEDED error; undefined while within budget. */
export function overBudget(budget: Budget, spent: BudgetSpent): KodoError | undefined {
  const details = { budget, spent };
  if (budget.maxTokens !== undefined && spent.tokens >= budget.maxTokens) {
    return new KodoError("BUDGET_EXCEEDED", `the task used ${spent.tokens} tokens of its budget of ${budget.maxTokens}`, { details });
  }
  if (budget.maxCostUsd !== undefined && spent.costUsd >= budget.maxCostUsd) {
    return new KodoError("BUDGET_EXCEEDED", `the task cost $${spent.costUsd.toFixed(4)} of its budget of $${budget.maxCostUsd}`, { details });
  }
  if (budget.maxWallSeconds !== undefined && spent.wallMs >= budget.maxWallSeconds * 1000) {
    return new KodoError("BUDGET_EXCEEDED", `the run worked ${Math.round(spent.wallMs / 1000)} s of its wall-time budget of ${budget.maxWallSeconds} s`, { details });
  }
  return undefined;
}

/** What is left for one turn: its time bound, and a check of its tokens and cost as they grow. */
export interface TurnAllowance {
  /** undefined: no wall-time limit */
  remainingMs: number | undefined;
  /** says why the turn's own tokens (priced with `price`) take the task over budget */
  check(turnTokens: { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number }): string | undefined;
}

export function turnAllowance(
  budget: Budget,
  spent: BudgetSpent,
  price: (tokens: { input: number; output: number; reasoning: number; cacheRead: number; cacheWrite: number }) => number,
): TurnAllowance {
  return {
    remainingMs: budget.maxWallSeconds === undefined ? undefined : Math.max(0, budget.maxWallSeconds * 1000 - spent.wallMs),
    check(turn) {
      const tokens = spent.tokens + turn.input + turn.output + turn.reasoning;
      if (budget.maxTokens !== undefined && tokens > budget.maxTokens) {
        return `the task reached ${tokens} tokens during a model call, over its budget of ${budget.maxTokens}`;
      }
      const cost = spent.costUsd + price(turn);
      if (budget.maxCostUsd !== undefined && cost > budget.maxCostUsd) {
        return `the task reached $${cost.toFixed(4)} during a model call, over its budget of $${budget.maxCostUsd}`;
      }
      return undefined;
    },
  };
}
