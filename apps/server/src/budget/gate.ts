/** The ledger's budget gate: the task's and its repository's budget, checked before every model call. */
import type { Pool } from "pg";
import type { Clock } from "../lib/ports.js";
import type { LedgerCall, TurnLimits } from "../model/ledger.js";
import { findTask } from "../store/tasks.js";
import { findRepoSettings } from "../store/verification.js";
import { budgetSpent, effectiveBudget, isUnlimited, overBudget, turnAllowance, type Budget } from "./budget.js";

type Price = Parameters<typeof turnAllowance>[2];

/** The budget in force for a task: its own and its repository's, the lower limit of each. */
export async function taskBudget(pool: Pick<Pool, "query">, taskId: string): Promise<Budget> {
  const task = await findTask(pool, taskId);
  if (task === undefined) return {};
  const repo = await findRepoSettings(pool, task.repo_path);
  return effectiveBudget(task.options.budget, repo?.budget);
}

export function createBudgetGate(o: { pool: Pool; clock: Clock; price: Price }): (call: LedgerCall) => Promise<TurnLimits> {
  return async (call) => {
    const budget = await taskBudget(o.pool, call.taskId);
    if (isUnlimited(budget)) return {};
    const spent = await budgetSpent(o.pool, { taskId: call.taskId, runId: call.runId, now: o.clock.now() });
    const over = overBudget(budget, spent);
    if (over !== undefined) throw over;
    const allowance = turnAllowance(budget, spent, o.price);
    return { ...(allowance.remainingMs === undefined ? {} : { remainingMs: allowance.remainingMs }), check: allowance.check };
  };
}
