import type { Pool, PoolClient } from "pg";
import type { Attempt, Budget, RepoSettings, RetryContext, TestResultView, TestRunner } from "@kodo/contracts";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

interface SettingsRow {
  repo_path: string;
  settings: { testRoots: string[]; runner?: TestRunner; budget?: Budget };
  updated_at: Date;
}

export async function findRepoSettings(db: Queryable, repoPath: string): Promise<RepoSettings | undefined> {
  const result = await db.query<SettingsRow>(`SELECT * FROM kodo.repo_settings WHERE repo_path = $1`, [repoPath]);
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return { repoPath: row.repo_path, testRoots: row.settings.testRoots, runner: row.settings.runner ?? null, budget: row.settings.budget ?? null, updatedAt: row.updated_at.toISOString() };
}

export async function putRepoSettings(
  db: Queryable,
  settings: { repoPath: string; testRoots: string[]; runner?: TestRunner; budget?: Budget; at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO kodo.repo_settings (repo_path, settings, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (repo_path) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at`,
    [settings.repoPath, JSON.stringify({
      testRoots: settings.testRoots,
      ...(settings.runner === undefined ? {} : { runner: settings.runner }),
      ...(settings.budget === undefined ? {} : { budget: settings.budget }),
    }), settings.at],
  );
}

/** Records a build attempt (idempotent: a re-executed step writes the same row again). */
export async function recordBuildAttempt(db: Queryable, attempt: { runId: string; attempt: number; summary: string; retryContext: RetryContext | null }): Promise<void> {
  await db.query(
    `INSERT INTO kodo.build_attempts (run_id, attempt, summary, retry_context) VALUES ($1, $2, $3, $4)
     ON CONFLICT (run_id, attempt) DO UPDATE SET summary = EXCLUDED.summary, retry_context = EXCLUDED.retry_context`,
    [attempt.runId, attempt.attempt, attempt.summary, attempt.retryContext === null ? null : JSON.stringify(attempt.retryContext)],
  );
}

export async function recordTestRun(db: Queryable, runId: string, result: TestResultView, passedIds: string[]): Promise<void> {
  await db.query(
    `INSERT INTO kodo.test_runs (run_id, attempt, class, reason, duration_ms, result, passed_ids) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (run_id, attempt) DO UPDATE SET class = EXCLUDED.class, reason = EXCLUDED.reason, duration_ms = EXCLUDED.duration_ms,
       result = EXCLUDED.result, passed_ids = EXCLUDED.passed_ids`,
    [runId, result.attempt, result.class, result.reason, result.durationMs, JSON.stringify(result), JSON.stringify(passedIds)],
  );
}

export async function findTestRun(db: Queryable, runId: string, attempt: number): Promise<TestResultView | undefined> {
  const result = await db.query<{ result: TestResultView }>(`SELECT result FROM kodo.test_runs WHERE run_id = $1 AND attempt = $2`, [runId, attempt]);
  return result.rows[0]?.result;
}

/** Milliseconds of test time already spent by all runs of a task (the cumulative budget). */
export async function testTimeSpent(db: Queryable, taskId: string): Promise<number> {
  const result = await db.query<{ spent: string | null }>(
    `SELECT sum(t.duration_ms) AS spent FROM kodo.test_runs t JOIN kodo.runs r ON r.id = t.run_id WHERE r.task_id = $1`,
    [taskId],
  );
  return Number(result.rows[0]?.spent ?? 0);
}

/** Test ids that passed in earlier attempts of this task's runs: evidence that a failure is a flake. */
export async function previouslyPassedTests(db: Queryable, taskId: string): Promise<string[]> {
  const result = await db.query<{ passed: string[] | null }>(
    `SELECT t.passed_ids AS passed FROM kodo.test_runs t JOIN kodo.runs r ON r.id = t.run_id WHERE r.task_id = $1`,
    [taskId],
  );
  return [...new Set(result.rows.flatMap((row) => row.passed ?? []))];
}

export async function listAttempts(db: Queryable, runId: string): Promise<Attempt[]> {
  const builds = await db.query<{ attempt: number; summary: string; retry_context: RetryContext | null }>(
    `SELECT attempt, summary, retry_context FROM kodo.build_attempts WHERE run_id = $1 ORDER BY attempt`,
    [runId],
  );
  const tests = await db.query<{ attempt: number; result: TestResultView }>(`SELECT attempt, result FROM kodo.test_runs WHERE run_id = $1`, [runId]);
  const byAttempt = new Map(tests.rows.map((row) => [row.attempt, row.result]));
  return builds.rows.map((row) => ({
    attempt: row.attempt,
    summary: row.summary,
    retryContext: row.retry_context,
    test: byAttempt.get(row.attempt) ?? null,
  }));
}
