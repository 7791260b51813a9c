import type { Pool, PoolClient } from "pg";
import type { Budget, Task, TaskStatus, Usage, VerifyConfig } from "@kodo/contracts";
import type { Policy } from "../policy/schema.js";
import { appendEvent } from "./events.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

export interface TaskOptions {
  planApproval: "manual" | "auto";
  planDecisionTimeoutSeconds?: number;
  approvalTimeoutSeconds?: number;
  verify?: VerifyConfig;
  budget?: Budget;
  /** the task's own policy layer (validated with the policy schema at creation) */
  policy?: Policy;
}

export interface TaskRow {
  id: string;
  title: string;
  prompt: string;
  repo_path: string;
  base_ref: string;
  status: TaskStatus;
  current_run_id: string | null;
  options: TaskOptions;
  created_at: Date;
  updated_at: Date;
}

export const ZERO_USAGE: Usage = {
  calls: 0,
  tokensInput: 0,
  tokensOutput: 0,
  tokensReasoning: 0,
  tokensCacheRead: 0,
  tokensCacheWrite: 0,
  costUsd: 0,
};

export interface NewTask {
  id: string;
  title: string;
  prompt: string;
  repoPath: string;
  baseRef: string;
  options: TaskOptions;
  at: Date;
}

export async function insertTask(db: Queryable, task: NewTask): Promise<void> {
  await db.query(
    `INSERT INTO kodo.tasks (id, title, prompt, repo_path, base_ref, status, options, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'Todo', $6, $7, $7)`,
    [task.id, task.title, task.prompt, task.repoPath, task.baseRef, JSON.stringify(task.options), task.at],
  );
  await appendEvent(db, { type: "task.created", taskId: task.id, title: task.title });
}

export async function findTask(db: Queryable, id: string): Promise<TaskRow | undefined> {
  const result = await db.query<TaskRow>(`SELECT * FROM kodo.tasks WHERE id = $1`, [id]);
  return result.rows[0];
}

export async function listTaskRows(db: Queryable, filter: { status?: TaskStatus; limit: number }): Promise<TaskRow[]> {
  const result = await db.query<TaskRow>(
    `SELECT * FROM kodo.tasks WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2`,
    [filter.status ?? null, filter.limit],
  );
  return result.rows;
}

interface UsageRow {
  key: string;
  calls: string;
  ti: string;
  tout: string;
  tr: string;
  tcr: string;
  tcw: string;
  cost: string;
}

/** Token and cost roll-up from the ledger, grouped by task or run id. */
export async function usageBy(db: Queryable, column: "task_id" | "run_id", ids: string[]): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>();
  if (ids.length === 0) return usage;
  const result = await db.query<UsageRow>(
    `SELECT ${column} AS key, count(*) AS calls, sum(tokens_input) AS ti, sum(tokens_output) AS tout,
            sum(tokens_reasoning) AS tr, sum(tokens_cache_read) AS tcr, sum(tokens_cache_write) AS tcw,
            sum(cost_usd) AS cost
       FROM kodo.model_calls WHERE ${column} = ANY($1) GROUP BY ${column}`,
    [ids],
  );
  for (const row of result.rows) {
    usage.set(row.key, {
      calls: Number(row.calls),
      tokensInput: Number(row.ti),
      tokensOutput: Number(row.tout),
      tokensReasoning: Number(row.tr),
      tokensCacheRead: Number(row.tcr),
      tokensCacheWrite: Number(row.tcw),
      costUsd: Number(row.cost),
    });
  }
  return usage;
}

export function toTask(row: TaskRow, usage: Usage | undefined): Task {
  return {
    id: row.id,
    title: row.title,
    prompt: row.prompt,
    repoPath: row.repo_path,
    baseRef: row.base_ref,
    status: row.status,
    currentRunId: row.current_run_id,
    planApproval: row.options.planApproval,
    verify: row.options.verify ?? null,
    budget: row.options.budget ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    usage: usage ?? ZERO_USAGE,
  };
}
