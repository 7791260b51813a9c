import type { Pool } from "pg";
import path from "node:path";
import {
  CreateTaskRequest,
  PutRepoSettingsRequest,
  type RepoSettings,
  type ActivityItem,
  type Run,
  type Task,
  type TaskStatus,
  type ExecuteResponse,
  type PlanDecisionResponse,
  type PlanQuorumStatus,
} from "@kodo/contracts";
import { withTransaction } from "../db/database.js";
import { KodoError } from "../lib/errors.js";
import { findRepoSettings, putRepoSettings } from "../store/verification.js";
import { newId, type Clock, type Random } from "../lib/ports.js";
import { canonicalJson, sha256Hex } from "../model/op-key.js";
import { appendEvent } from "../store/events.js";
import { recordPlanDecision } from "../store/plan-approvals.js";
import { recordPlanVote } from "../store/plan-quorum.js";
import { findGovernance } from "../store/governance.js";
import { changeRunStatus, findRun, insertRun, isUniqueViolation, loadRunView } from "../store/runs.js";
import { findTask, insertTask, listTaskRows, toTask, usageBy } from "../store/tasks.js";
import { listActivity } from "../store/activity.js";
import type { RunControl } from "../workflow/runtime.js";
import { inspectRepo } from "../workspace/worktree.js";
import { parseTaskPolicy } from "../governance/run-policy.js";

export interface ServiceDeps {
  pool: Pool;
  control: RunControl;
  clock: Clock;
  random: Random;
  /** called after a cancel is recorded, to abort the run's agent session if this process runs it */
  onCancel?: (runId: string) => Promise<void>;
  /** writes the evidence bundle of a run this service ended (a cancelled workflow runs no more steps) */
  writeEvidence?: (runId: string) => Promise<unknown>;
}

/**
 * What the API, the CLI and the board can do with kodo. Every write is one transaction that
 * also carries its event (and, for runs, the DBOS enqueue or message), so nothing is half-done.
 */
export class KodoService {
  readonly #deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.#deps = deps;
  }

  async createTask(input: unknown): Promise<Task> {
    const request = CreateTaskRequest.parse(input);
    const repo = await inspectRepo(request.repoPath, request.baseRef);
    if (request.planApproval === "auto" && (await findGovernance(this.#deps.pool, repo.repoRoot))?.planQuorum != null) {
      throw new KodoError("PLAN_QUORUM_REQUIRED", `plans of ${repo.repoRoot} need the approval of its plan quorum; create the task with planApproval "manual"`, {
        details: { repoPath: repo.repoRoot },
      });
    }
    const { pool, clock, random } = this.#deps;
    const taskPolicy = request.policy === undefined ? undefined : parseTaskPolicy(request.policy);
    for (let tries = 0; ; tries += 1) {
      const id = newId("tsk", clock, random);
      try {
        await withTransaction(pool, (tx) =>
          insertTask(tx, {
            id,
            title: request.title,
            prompt: request.prompt,
            repoPath: repo.repoRoot,
            baseRef: request.baseRef,
            options: {
              planApproval: request.planApproval,
              ...(request.planDecisionTimeoutSeconds === undefined ? {} : { planDecisionTimeoutSeconds: request.planDecisionTimeoutSeconds }),
              ...(request.approvalTimeoutSeconds === undefined ? {} : { approvalTimeoutSeconds: request.approvalTimeoutSeconds }),
              ...(request.verify === undefined ? {} : { verify: request.verify }),
              ...(request.budget === undefined ? {} : { budget: request.budget }),
              ...(taskPolicy === undefined ? {} : { policy: taskPolicy }),
            },
            at: clock.now(),
          }),
        );
        return await this.getTask(id);
      } catch (error) {
        if (tries < 5 && isUniqueViolation(error, "tasks_pkey")) continue;
        throw error;
      }
    }
  }

  async listTasks(filter: { status?: TaskStatus; limit?: number } = {}): Promise<Task[]> {
    const rows = await listTaskRows(this.#deps.pool, { ...(filter.status === undefined ? {} : { status: filter.status }), limit: filter.limit ?? 200 });
    const usage = await usageBy(this.#deps.pool, "task_id", rows.map((row) => row.id));
    return rows.map((row) => toTask(row, usage.get(row.id)));
  }

  async getTask(id: string): Promise<Task> {
    const row = await findTask(this.#deps.pool, id);
    if (row === undefined) throw new KodoError("NOT_FOUND", `task ${id} not found`, { details: { taskId: id } });
    const usage = await usageBy(this.#deps.pool, "task_id", [id]);
    return toTask(row, usage.get(id));
  }

  /** Starts a run in the background and returns at once; a second run while one is active is refused. */
  async executeTask(taskId: string): Promise<ExecuteResponse> {
    const { pool, clock, random, control } = this.#deps;
    for (let tries = 0; ; tries += 1) {
      const runId = newId("run", clock, random);
      try {
        await withTransaction(pool, async (tx) => {
          const task = await tx.query(`SELECT id FROM kodo.tasks WHERE id = $1 FOR UPDATE`, [taskId]);
          if (task.rowCount === 0) throw new KodoError("NOT_FOUND", `task ${taskId} not found`, { details: { taskId } });
          await insertRun(tx, { id: runId, taskId, at: clock.now() });
          await control.enqueueRun(tx, runId);
        });
        return { runId, taskId, status: "Todo" };
      } catch (error) {
        if (tries < 5 && isUniqueViolation(error, "runs_pkey")) continue;
        throw error;
      }
    }
  }

  async getRun(id: string): Promise<Run> {
    const run = await loadRunView(this.#deps.pool, id);
    if (run === undefined) throw new KodoError("NOT_FOUND", `run ${id} not found`, { details: { runId: id } });
    return run;
  }

  /** With a plan quorum (the repository's governance), this is `decidedBy`'s vote; see store/plan-quorum.ts. */
  async approvePlan(runId: string, decidedBy: string, comment?: string): Promise<PlanDecisionResponse> {
    return this.#decide(runId, "approved", comment ?? null, decidedBy);
  }

  async rejectPlan(runId: string, reason: string, decidedBy: string): Promise<PlanDecisionResponse> {
    return this.#decide(runId, "rejected", reason, decidedBy);
  }

  async #decide(runId: string, decision: "approved" | "rejected", reason: string | null, decidedBy: string): Promise<PlanDecisionResponse> {
    const { pool, clock, control } = this.#deps;
    const quorum = await withTransaction(pool, async (tx): Promise<PlanQuorumStatus | undefined> => {
      const run = await findRun(tx, runId, true);
      if (run === undefined) throw new KodoError("NOT_FOUND", `run ${runId} not found`, { details: { runId } });
      const at = clock.now();
      const vote = await recordPlanVote(tx, { run, approver: decidedBy, vote: decision === "approved" ? "approve" : "reject", comment: reason, at });
      if (vote !== undefined && vote.decision === null) return vote.status; // the plan quorum has not decided yet: the run keeps waiting
      const decided = vote?.decision ?? { decision, reason, decidedBy };
      const result = await recordPlanDecision(tx, { runId, ...decided, planHash: sha256Hex(canonicalJson(run.plan)), at });
      // The message wakes the waiting workflow; it commits with the decision or not at all.
      if (result.recorded) await control.sendPlanDecision(tx, runId);
      return vote?.status;
    });
    const view = await this.getRun(runId);
    return quorum === undefined ? view : { ...view, planQuorum: quorum };
  }

  /** Cancels an active run: the workflow is cancelled, its agent session aborted, the status written. */
  async cancelRun(runId: string, reason = "cancelled by user"): Promise<Run> {
    const { pool, clock, control } = this.#deps;
    const run = await findRun(pool, runId);
    if (run === undefined) throw new KodoError("NOT_FOUND", `run ${runId} not found`, { details: { runId } });
    if (["Done", "Failed", "Rejected", "Cancelled"].includes(run.status)) {
      throw new KodoError("RUN_NOT_ACTIVE", `run ${runId} is ${run.status}; only an active run can be cancelled`, { details: { runId, status: run.status } });
    }
    await withTransaction(pool, (tx) => appendEvent(tx, { type: "run.cancel_requested", taskId: run.task_id, runId }));
    await control.cancel(runId);
    await this.#deps.onCancel?.(runId);
    const ended = await withTransaction(pool, (tx) => changeRunStatus(tx, { runId, to: "Cancelled", reason, at: clock.now() }));
    // The run is cancelled whether or not its bundle can be written; without one, evidencePath stays null.
    if (ended.kind === "changed") await this.#deps.writeEvidence?.(runId).catch(() => undefined);
    return this.getRun(runId);
  }

  /** Repository-level settings, keyed by the repository's root (any path inside it is accepted). */
  async repoSettings(repoPath: string): Promise<RepoSettings> {
    const repo = await inspectRepo(repoPath, "HEAD");
    const found = await findRepoSettings(this.#deps.pool, repo.repoRoot);
    return found ?? { repoPath: repo.repoRoot, testRoots: [], runner: null, budget: null, updatedAt: new Date(0).toISOString() };
  }

  async putRepoSettings(input: unknown): Promise<RepoSettings> {
    const request = PutRepoSettingsRequest.parse(input);
    const repo = await inspectRepo(request.repoPath, "HEAD");
    for (const root of request.testRoots) {
      if (path.isAbsolute(root) || root.split(/[\\/]/).includes("..") || root.includes("\0")) {
        throw new KodoError("VALIDATION_FAILED", `test root ${JSON.stringify(root)} must be a relative path inside the repository`, { details: { root } });
      }
    }
    await putRepoSettings(this.#deps.pool, {
      repoPath: repo.repoRoot,
      testRoots: request.testRoots,
      ...(request.runner === undefined ? {} : { runner: request.runner }),
      ...(request.budget === undefined ? {} : { budget: request.budget }),
      at: this.#deps.clock.now(),
    });
    return this.repoSettings(repo.repoRoot);
  }

  async sessionActivity(sessionId: string, afterSeq = 0): Promise<ActivityItem[]> {
    return listActivity(this.#deps.pool, sessionId, afterSeq);
  }
}
