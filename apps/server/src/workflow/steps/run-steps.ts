import { z } from "zod";
import { Plan, type Review, type RetryContext, type TaskStatus, type TestClass, type VerifyConfig } from "@kodo/contracts";
import path from "node:path";
import { agentInstructions, buildPrompt, fixPrompt, planPrompt } from "../../domain/prompts.js";
import { findRepoSettings, previouslyPassedTests, recordBuildAttempt, recordTestRun, testTimeSpent } from "../../store/verification.js";
import { evaluate } from "../../policy/index.js";
import { activeGovernance, findGovernance } from "../../store/governance.js";
import { runTests } from "../../verify/executor.js";
import { buildRetryContext, renderRetryContext } from "../../verify/retry-context.js";
import { testResultView } from "../../verify/view.js";
import { KodoError, isKodoError } from "../../lib/errors.js";
import { canonicalJson, sha256Hex } from "../../model/op-key.js";
import { agentPermissionRules } from "../../agent/policy-permissions.js";
import { runPolicy } from "../../governance/run-policy.js";
import { saveArtifact } from "../../store/artifacts.js";
import { changeRunStatus, findRun, updateRunFields, type RunRow } from "../../store/runs.js";
import { findPlanDecision, recordPlanDecision, type PlanDecision } from "../../store/plan-approvals.js";
import { findTask, type TaskRow } from "../../store/tasks.js";
import { appendEvent } from "../../store/events.js";
import { withTransaction } from "../../db/database.js";
import {
  commitWork,
  createWorktree,
  diffWork,
  fingerprintWorktree,
  inspectRepo,
  slugify,
  writeAgentInstructions,
  assertKodoWorktree,
  type Worktree,
} from "../../workspace/worktree.js";
import { audited } from "./audit-step.js";
import { failureOf, ok, type StepOutcome } from "./outcome.js";
import { taskBudget } from "../../budget/gate.js";
import type { Budget } from "../../budget/budget.js";
import { services } from "./services.js";

const DEFAULT_DECISION_TIMEOUT_SECONDS = 7 * 24 * 3600;
export const PLAN_JSON_SCHEMA = z.toJSONSchema(Plan) as Record<string, unknown>;
const KODO_AUTHOR = { name: "kodo", email: "kodo@localhost" };

async function load(runId: string): Promise<{ run: RunRow; task: TaskRow }> {
  const { pool } = services();
  const run = await findRun(pool, runId);
  if (run === undefined) throw new KodoError("NOT_FOUND", `run ${runId} not found`);
  const task = await findTask(pool, run.task_id);
  if (task === undefined) throw new KodoError("NOT_FOUND", `task ${run.task_id} not found`);
  return { run, task };
}

function worktreeOf(run: RunRow, task: TaskRow): Worktree {
  if (run.worktree_path === null || run.branch === null || run.base_commit === null) {
    throw new KodoError("WORKTREE_REQUIRED", `run ${run.id} has no worktree yet`);
  }
  return { path: run.worktree_path, branch: run.branch, baseCommit: run.base_commit, repoRoot: task.repo_path };
}

/** The run's worktree, for an agent that may write: only a linked worktree kodo created (WORKTREE_REQUIRED). */
async function agentWorktree(run: RunRow, task: TaskRow): Promise<Worktree> {
  const worktree = worktreeOf(run, task);
  await assertKodoWorktree(worktree.path, { worktreesRoot: services().worktreesRoot, repoRoot: task.repo_path });
  return worktree;
}

/** Moves the run to `to` (status, history and event in one transaction). Terminal runs stay put. */
export async function setStatus(runId: string, to: TaskStatus, reason: string | null, error?: { code: string; message: string }): Promise<TaskStatus> {
  const { pool, clock } = services();
  const result = await withTransaction(pool, (client) =>
    changeRunStatus(client, { runId, to, reason, at: clock.now(), ...(error === undefined ? {} : { error }) }),
  );
  return result.kind === "changed" ? result.to : result.status;
}

export interface RunStart {
  taskId: string;
  status: TaskStatus;
  planApproval: "manual" | "auto";
  decisionDeadlineEpochMs: number;
  verify: VerifyConfig | null;
  /** the budget in force (the task's and its repository's, the lower of each limit) */
  budget: Budget;
}

/** Reads what the run needs and fixes its plan-decision deadline (the clock is read here, once). */
export async function startRun(runId: string): Promise<RunStart> {
  const { clock } = services();
  const { run, task } = await load(runId);
  const timeout = task.options.planDecisionTimeoutSeconds ?? DEFAULT_DECISION_TIMEOUT_SECONDS;
  return {
    taskId: task.id,
    status: run.status,
    planApproval: task.options.planApproval,
    decisionDeadlineEpochMs: clock.now().getTime() + timeout * 1000,
    verify: task.options.verify ?? null,
    budget: await taskBudget(services().pool, task.id),
  };
}

/** Creates (or finds again, after a crash) the run's worktree and writes the agent's AGENTS.md. */
export async function prepareWorkspace(runId: string): Promise<StepOutcome<{ worktreePath: string; branch: string }>> {
  const { pool, worktreesRoot } = services();
  try {
    const { run, task } = await load(runId);
    await inspectRepo(task.repo_path, task.base_ref);
    const worktree = await createWorktree({
      repoPath: task.repo_path,
      baseRef: run.base_commit ?? task.base_ref,
      slug: slugify(task.title),
      shortId: run.id.slice(-8),
      worktreesRoot,
    });
    await writeAgentInstructions(worktree, agentInstructions(task, run.id, undefined));
    const fingerprint = await fingerprintWorktree(worktree);
    await updateRunFields(pool, runId, { worktree_path: worktree.path, branch: worktree.branch, base_commit: worktree.baseCommit });
    await pool.query(`UPDATE kodo.runs SET prepared_fingerprint = coalesce(prepared_fingerprint, $2) WHERE id = $1`, [runId, fingerprint]);
    return ok({ worktreePath: worktree.path, branch: worktree.branch });
  } catch (error) {
    return failureOf(error);
  }
}

/** One session per run and phase; re-executing the step finds the session it created before. */
async function openSession(run: RunRow, task: TaskRow, agent: "plan" | "build", directory: string): Promise<string> {
  const { pool, agent: runtime } = services();
  const existing = await pool.query<{ session_id: string }>(`SELECT session_id FROM kodo.sessions WHERE run_id = $1 AND agent = $2`, [run.id, agent]);
  const found = existing.rows[0]?.session_id;
  if (found !== undefined) return found;
  const policy = await runPolicy(pool, task, directory);
  const { sessionId } = await runtime.createSession({
    directory,
    title: `kodo ${run.id} ${agent}: ${task.title}`.slice(0, 120),
    // The session's OpenCode rules, from the run's policy (plan stays read-only whatever it says).
    permission: await agentPermissionRules(policy.policy, agent, policy.context),
  });
  await withTransaction(pool, async (client) => {
    await client.query(`INSERT INTO kodo.sessions (session_id, run_id, agent, directory) VALUES ($1, $2, $3, $4)`, [sessionId, run.id, agent, directory]);
    await client.query(`UPDATE kodo.runs SET session_id = $2, updated_at = now() WHERE id = $1`, [run.id, sessionId]);
    await appendEvent(client, { type: "session.started", taskId: task.id, runId: run.id, sessionId });
  });
  return sessionId;
}

/**
 * CompilePlan: the plan agent (read-only) answers with a structured plan. Output that is not a
 * valid plan is retried within the step, then the run fails terminally with a stored diagnostic.
 */
export async function compilePlan(runId: string): Promise<StepOutcome<Plan>> {
  const { pool, ledger, config } = services();
  try {
    const { run, task } = await load(runId);
    if (run.plan !== null) return ok(run.plan);
    const worktree = await agentWorktree(run, task);
    const sessionId = await openSession(run, task, "plan", worktree.path);
    const { audit } = await runPolicy(pool, task, worktree.path);
    const askForPlan = async (): Promise<StepOutcome<Plan>> => {
      const problems: string[] = [];
      for (let attempt = 1; attempt <= config.planAttempts; attempt += 1) {
        const previous = problems.at(-1);
        const prompt = planPrompt(task, previous === undefined ? undefined : { attempt, problem: previous });
        let answer: Awaited<ReturnType<typeof ledger.call>>;
        try {
          answer = await ledger.call({
            runId,
            taskId: task.id,
            stepId: "CompilePlan",
            agent: "plan",
            sessionId,
            directory: worktree.path,
            prompt,
            schema: PLAN_JSON_SCHEMA,
          });
        } catch (error) {
          // A turn that ended without structured output is invalid output like any other: try again.
          if (!isStructuredOutputFailure(error)) throw error;
          problems.push(`no structured output (${error instanceof Error ? error.message : String(error)})`);
          continue;
        }
        const parsed = Plan.safeParse(answer.structured ?? parseJsonText(answer.text));
        if (parsed.success) return ok(parsed.data);
        problems.push(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; "));
      }
      const diagnostic = { runId, attempts: config.planAttempts, problems };
      await saveArtifact(pool, config.home.runs, { runId, kind: "diagnostic", name: "diagnostic.json", content: `${JSON.stringify(diagnostic, null, 2)}\n` });
      return { ok: false, code: "PLAN_INVALID", message: `the plan agent gave no valid plan in ${config.planAttempts} attempts: ${problems.at(-1) ?? ""}` };
    };
    // The plan agent writes nothing: any change to the worktree is a finding.
    const { verdict, value } = await audited(
      { runId, stepKey: "CompilePlan", worktree, rules: { writeRoots: [], allowDeletions: [], warn: audit.warn } },
      askForPlan,
    );
    if (verdict.blocking !== null) return { ok: false, code: verdict.blocking.code, message: verdict.blocking.message };
    if (value === undefined || !value.ok) return value ?? { ok: false, code: "INTERNAL", message: "the plan step ended without an outcome" };
    await updateRunFields(pool, runId, { plan: value.value });
    await saveArtifact(pool, config.home.runs, { runId, kind: "plan_card", name: "plan.json", content: `${JSON.stringify(value.value, null, 2)}\n` });
    return value;
  } catch (error) {
    return failureOf(error);
  }
}

function isStructuredOutputFailure(error: unknown): boolean {
  if (!isKodoError(error) || error.code !== "AGENT_FAILED") return false;
  const cause = error.details?.["error"];
  return typeof cause === "object" && cause !== null && (cause as { name?: unknown }).name === "StructuredOutputError";
}

function parseJsonText(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return undefined;
  }
}

/** The Clock port, as a step: workflow code reads time only through here. */
export async function nowEpochMs(): Promise<number> {
  return services().clock.now().getTime();
}

/** The recorded plan decision, if any (the durable fallback to the message that carries it). */
export async function readPlanDecision(runId: string): Promise<PlanDecision | null> {
  const { pool } = services();
  return (await findPlanDecision(pool, runId)) ?? null;
}

/** Plan approval mode `auto` (e.g. CI): kodo records the approval itself. */
export async function approvePlanAutomatically(runId: string): Promise<PlanDecision> {
  const { pool, clock } = services();
  const { run } = await load(runId);
  const result = await withTransaction(pool, (client) =>
    recordPlanDecision(client, {
      runId,
      decision: "approved",
      reason: "plan approval mode is auto",
      decidedBy: "kodo:auto",
      planHash: sha256Hex(canonicalJson(run.plan)),
      at: clock.now(),
    }),
  );
  return result.decision;
}

/**
 * Build: the build agent implements the approved plan in the worktree. Refuses to run without a
 * recorded approval, or if the worktree changed since it was prepared (nothing is written before
 * approval).
 */
export async function build(runId: string, attempt: number, retry: RetryContext | null): Promise<StepOutcome<{ summary: string }>> {
  const { pool, ledger } = services();
  try {
    const { run, task } = await load(runId);
    const decision = await findPlanDecision(pool, runId);
    if (decision?.kind !== "approved" || run.plan_approved_at === null || run.plan === null) {
      throw new KodoError("CONFLICT", `run ${runId} has no approved plan: Build refuses to write`);
    }
    const worktree = await agentWorktree(run, task);
    const prepared = await pool.query<{ prepared_fingerprint: string | null }>(`SELECT prepared_fingerprint FROM kodo.runs WHERE id = $1`, [runId]);
    const existingBuild = await pool.query(`SELECT 1 FROM kodo.sessions WHERE run_id = $1 AND agent = 'build'`, [runId]);
    if (existingBuild.rowCount === 0 && prepared.rows[0]?.prepared_fingerprint !== (await fingerprintWorktree(worktree))) {
      throw new KodoError("WORKTREE_CHANGED", `the worktree of run ${runId} changed before its plan was approved`);
    }
    await writeAgentInstructions(worktree, agentInstructions(task, run.id, run.plan));
    const sessionId = await openSession(run, task, "build", worktree.path);
    const prompt = attempt === 1 || retry === null ? buildPrompt(task, run.plan) : fixPrompt(task, run.plan, attempt, renderRetryContext(retry));
    const { context, audit } = await runPolicy(pool, task, worktree.path);
    const { verdict, value: answer } = await audited(
      { runId, stepKey: `Build#${attempt}`, worktree, rules: { writeRoots: context.writeRoots, allowDeletions: audit.allowDeletions, warn: audit.warn } },
      () => ledger.call({ runId, taskId: task.id, stepId: "Build", agent: "build", sessionId, directory: worktree.path, prompt }),
    );
    if (verdict.blocking !== null) return { ok: false, code: verdict.blocking.code, message: verdict.blocking.message };
    if (answer === undefined) throw new KodoError("INTERNAL", "the build turn ended without an answer");
    await recordBuildAttempt(pool, { runId, attempt, summary: answer.text, retryContext: retry });
    return ok({ summary: answer.text });
  } catch (error) {
    return failureOf(error);
  }
}

export interface VerifyOutcome {
  class: TestClass;
  reason: string;
  retryContext: RetryContext | null;
  budgetExhausted: boolean;
}

/**
 * Verify: the repository's tests on the agent's work, in the sandbox, for the task's target (which
 * must lie inside the repository's test roots). The result is stored with its evidence.
 */
export async function verify(runId: string, attempt: number): Promise<StepOutcome<VerifyOutcome>> {
  const { pool, config } = services();
  try {
    const { run, task } = await load(runId);
    const settings = task.options.verify;
    if (settings === undefined) throw new KodoError("INTERNAL", `task ${task.id} has no verification settings`);
    const worktree = worktreeOf(run, task);
    const repo = await findRepoSettings(pool, task.repo_path);
    // The policy gate for (tests, run, {target}): the default rule checks the target against the
    // repository's test roots (verify/scope.ts) and its code (TARGET_OUTSIDE_ROOTS, …) is the decision's.
    // Under governance, running tests is a capability the quorum enables for the repository.
    if ((await findGovernance(pool, task.repo_path)) !== undefined && (await activeGovernance(pool, task.repo_path)).capabilities["tests"] !== true) {
      return { ok: false, code: "DENIED_BY_RULE", message: `test execution is not an enabled capability of ${task.repo_path} (propose it: kodo propose capability --enable tests)` };
    }
    const { policy } = await runPolicy(pool, task, worktree.path);
    const decision = await evaluate(policy, {
      tool: "tests",
      action: "run",
      args: { target: settings.target },
      context: { worktree: worktree.path, testRoots: repo?.testRoots ?? [] },
    });
    if (!decision.allowed) return { ok: false, code: decision.code, message: `${decision.decisionReason} [rules: ${decision.matchedRules.join(", ") || "none"}]` };
    const budgetMs = settings.budgetSeconds * 1000;
    const spentBefore = await testTimeSpent(pool, task.id);
    const runner = settings.runner ?? repo?.runner ?? undefined;
    const result = await runTests({
      worktree: worktree.path,
      // Run what the check resolved (as the kernel would), never the raw text: a `..` after a symlink
      // means something else to a string resolver.
      target: decision.resolved ?? settings.target,
      ...(runner === undefined ? {} : { runner }),
      timeoutMs: settings.timeoutSeconds * 1000,
      budget: { remainingMs: budgetMs - spentBefore },
      rerunFailed: settings.rerunFailed,
      previouslyPassed: await previouslyPassedTests(pool, task.id),
      artifactsDir: path.join(config.home.runs, runId, `tests-attempt-${attempt}`),
      allowUnsandboxed: settings.allowUnsandboxed,
      masked: [config.home.root],
    });
    const view = testResultView(result, attempt);
    await recordTestRun(pool, runId, view, result.passedIds);
    for (const artifact of result.artifacts) {
      await pool.query(
        `INSERT INTO kodo.artifacts (run_id, kind, name, path, sha256, bytes) VALUES ($1, 'test', $2, $3, $4, $5)
         ON CONFLICT (run_id, name) DO UPDATE SET path = EXCLUDED.path, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes`,
        [runId, `tests-attempt-${attempt}/${artifact.name}`, artifact.path, artifact.sha256, artifact.bytes],
      );
    }
    return ok({
      class: result.class,
      reason: result.reason,
      retryContext: result.class === "PASSED" ? null : buildRetryContext(result),
      budgetExhausted: spentBefore + result.durationMs >= budgetMs,
    });
  } catch (error) {
    return failureOf(error);
  }
}

/** Review: the diff against the base commit, stored as artifacts and on the run. */
export async function review(runId: string, buildSummary: string): Promise<StepOutcome<Review>> {
  const { pool, config } = services();
  try {
    const { run, task } = await load(runId);
    const worktree = worktreeOf(run, task);
    const diff = await diffWork(worktree);
    const result: Review = { files: diff.files, stat: diff.stat, summary: buildSummary, commit: null };
    await saveArtifact(pool, config.home.runs, { runId, kind: "diff", name: "diff.patch", content: diff.patch });
    await updateRunFields(pool, runId, { review: result });
    return ok(result);
  } catch (error) {
    return failureOf(error);
  }
}

/** Finish: commit the agent's work on the run's branch (never AGENTS.md) and record the head. */
export async function finish(runId: string): Promise<StepOutcome<{ commit: string | null }>> {
  const { pool, config } = services();
  try {
    const { run, task } = await load(runId);
    const worktree = worktreeOf(run, task);
    const committed = await commitWork(worktree, `kodo: ${task.title}\n\nkodo run ${run.id}, task ${task.id}`, KODO_AUTHOR);
    const commit = committed.commit ?? null;
    const reviewed = run.review === null ? null : { ...run.review, commit };
    await updateRunFields(pool, runId, { head_commit: commit, ...(reviewed === null ? {} : { review: reviewed }) });
    await saveArtifact(pool, config.home.runs, {
      runId,
      kind: "summary",
      name: "summary.json",
      content: `${JSON.stringify({ runId, taskId: task.id, branch: worktree.branch, baseCommit: worktree.baseCommit, headCommit: commit, plan: run.plan, review: reviewed }, null, 2)}\n`,
    });
    return ok({ commit });
  } catch (error) {
    return failureOf(error);
  }
}
