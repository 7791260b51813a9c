import { z } from "zod";
import { TaskStatus } from "./status.js";
import { Attempt, VerifyConfig } from "./verify.js";
import { Budget } from "./budget.js";

/** Errors on the wire: `{ error: { code, message, details? } }`. */
export const ApiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

export const TaskId = z.string().regex(/^tsk_[a-z0-9]{6,40}$/, "a task id looks like tsk_…");
export const RunId = z.string().regex(/^run_[a-z0-9]{6,40}$/, "a run id looks like run_…");

export const PlanApprovalMode = z.enum(["manual", "auto"]);



export const CreateTaskRequest = z
  .object({
    title: z.string().trim().min(1, "title must not be empty").max(200),
    prompt: z.string().trim().min(1, "prompt must not be empty").max(100_000),
    repoPath: z.string().min(1, "repoPath must not be empty"),
    baseRef: z.string().min(1).max(250).default("HEAD"),
    planApproval: PlanApprovalMode.default("manual"),
    /** how long the run waits for a plan decision before failing; default 7 days */
    planDecisionTimeoutSeconds: z.number().int().positive().max(30 * 24 * 3600).optional(),
    /** how long an agent's ask waits for a person before it is rejected; default KODO_APPROVAL_TIMEOUT_SECONDS */
    approvalTimeoutSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
    /** verify the build with the repository's tests (build → test → fix loop) */
    verify: VerifyConfig.optional(),
    /** limits on tokens, cost, wall time and build attempts (BUDGET_EXCEEDED when one is reached) */
    budget: Budget.optional(),
    /**
     * The task's own policy layer (`{version: 1, extends?, rules}`, see docs/policy.md), over the
     * repository's and the defaults. Where a repository has governance (quorum approvals), a task
     * policy may only narrow: deny and ask rules, nothing that replaces or drops a lower rule.
     */
    policy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;

/** Tokens and cost of model calls, as the ledger records them. */
const TokenCounts = z.object({
  tokensInput: z.number().int(),
  tokensOutput: z.number().int(),
  tokensReasoning: z.number().int(),
  tokensCacheRead: z.number().int(),
  tokensCacheWrite: z.number().int(),
  costUsd: z.number(),
});

export const Usage = TokenCounts.extend({ calls: z.number().int() });
export type Usage = z.infer<typeof Usage>;

export const Task = z.object({
  id: z.string(),
  title: z.string(),
  prompt: z.string(),
  repoPath: z.string(),
  baseRef: z.string(),
  status: TaskStatus,
  currentRunId: z.string().nullable(),
  planApproval: PlanApprovalMode,
  verify: VerifyConfig.nullable(),
  budget: Budget.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  usage: Usage,
});
export type Task = z.infer<typeof Task>;

export const Plan = z
  .object({
    summary: z.string().min(1),
    steps: z.array(z.string().min(1)).min(1),
    files: z.array(z.string()),
    risks: z.array(z.string()),
    tests: z.array(z.string()),
  })
  .strict();
export type Plan = z.infer<typeof Plan>;

export const StatusChange = z.object({
  from: TaskStatus.nullable(),
  to: TaskStatus,
  reason: z.string().nullable(),
  at: z.string(),
});

export const ChangedFile = z.object({
  path: z.string(),
  status: z.enum(["added", "modified", "deleted", "renamed"]),
  oldPath: z.string().optional(),
  insertions: z.number().int(),
  deletions: z.number().int(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

export const Review = z.object({
  files: z.array(ChangedFile),
  stat: z.object({ files: z.number().int(), insertions: z.number().int(), deletions: z.number().int() }),
  summary: z.string(),
  commit: z.string().nullable(),
});
export type Review = z.infer<typeof Review>;

export const ModelCall = TokenCounts.extend({
  opKey: z.string(),
  stepId: z.string(),
  attempt: z.number().int(),
  agent: z.string(),
  status: z.enum(["pending", "completed", "failed", "interrupted"]),
  modelId: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: z.string(),
});
export type ModelCall = z.infer<typeof ModelCall>;

export const Artifact = z.object({
  kind: z.string(),
  name: z.string(),
  path: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
});

export const Run = z.object({
  id: z.string(),
  taskId: z.string(),
  workflowId: z.string(),
  status: TaskStatus,
  branch: z.string().nullable(),
  worktreePath: z.string().nullable(),
  baseCommit: z.string().nullable(),
  headCommit: z.string().nullable(),
  sessionId: z.string().nullable(),
  plan: Plan.nullable(),
  planApprovedAt: z.string().nullable(),
  review: Review.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  history: z.array(StatusChange),
  /** build attempts with their test results (the verification loop) */
  attempts: z.array(Attempt),
  modelCalls: z.array(ModelCall),
  artifacts: z.array(Artifact),
  usage: Usage,
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** the run's evidence bundle (`kodo verify` checks it), written when the run ends; null before */
  evidencePath: z.string().nullable().default(null),
});
export type Run = z.infer<typeof Run>;

export const ExecuteResponse = z.object({ runId: z.string(), taskId: z.string(), status: TaskStatus });
export type ExecuteResponse = z.infer<typeof ExecuteResponse>;

export const RejectPlanRequest = z.object({ reason: z.string().trim().min(1, "reason must not be empty").max(10_000) }).strict();
export const ApprovePlanRequest = z.object({ comment: z.string().max(10_000).optional() }).strict();

export const ActivityItem = z.object({
  seq: z.number().int(),
  sessionId: z.string(),
  itemId: z.string(),
  messageId: z.string().nullable(),
  kind: z.string(),
  data: z.record(z.string(), z.unknown()),
  updatedAt: z.string(),
});
export type ActivityItem = z.infer<typeof ActivityItem>;

export const Health = z.object({
  ok: z.boolean(),
  version: z.string(),
  database: z.enum(["embedded", "external"]),
  opencode: z.object({
    url: z.string().nullable(),
    restarts: z.number().int(),
    healthy: z.boolean(),
    /** OpenCode (and the agent's commands) run under bubblewrap */
    sandboxed: z.boolean(),
  }),
  worker: z.boolean(),
});
