import { z } from "zod";
import { TaskStatus } from "./status.js";
import { ActivityItem } from "./api.js";
import { ProposalKind, VoteChoice } from "./governance.js";
import { ApprovalDecision, ApprovalKind } from "./approvals.js";

/**
 * Every event kodo publishes, one discriminated union: the DB row, the SSE frame and the
 * web board's handler all use this shape. Adding an event means adding a member here.
 */
export const KodoEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("task.created"),
    taskId: z.string(),
    title: z.string(),
  }),
  z.object({
    type: z.literal("task.status_changed"),
    taskId: z.string(),
    runId: z.string().nullable(),
    from: TaskStatus.nullable(),
    to: TaskStatus,
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal("session.started"),
    taskId: z.string(),
    runId: z.string(),
    sessionId: z.string(),
  }),
  z.object({
    type: z.literal("session.activity"),
    taskId: z.string().nullable(),
    runId: z.string().nullable(),
    sessionId: z.string(),
    item: ActivityItem,
  }),
  z.object({
    type: z.literal("plan.decided"),
    taskId: z.string(),
    runId: z.string(),
    decision: z.enum(["approved", "rejected"]),
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal("model.call_completed"),
    taskId: z.string(),
    runId: z.string(),
    stepId: z.string(),
    opKey: z.string(),
    tokensInput: z.number().int(),
    tokensOutput: z.number().int(),
    costUsd: z.number(),
  }),
  z.object({
    type: z.literal("run.cancel_requested"),
    taskId: z.string(),
    runId: z.string(),
  }),
  /** a change that widens what agents may do was proposed; it waits for its quorum */
  z.object({
    type: z.literal("proposal.created"),
    proposalId: z.string(),
    repoPath: z.string(),
    kind: ProposalKind,
    createdBy: z.string(),
    approvers: z.array(z.string()),
    required: z.number().int(),
  }),
  /** an approver voted on a proposal (or, `amended`, changed their condition marks) */
  z.object({
    type: z.literal("proposal.voted"),
    proposalId: z.string(),
    repoPath: z.string(),
    approver: z.string(),
    vote: VoteChoice,
    conditions: z.record(z.string(), z.boolean()),
    amended: z.boolean(),
    approvals: z.number().int(),
    rejections: z.number().int(),
  }),
  /** the quorum approved and every blocking condition is met: the payload is in force */
  z.object({
    type: z.literal("proposal.activated"),
    proposalId: z.string(),
    repoPath: z.string(),
    kind: ProposalKind,
    version: z.number().int(),
    superseded: z.string().nullable(),
  }),
  /** the quorum can no longer be reached */
  z.object({
    type: z.literal("proposal.rejected"),
    proposalId: z.string(),
    repoPath: z.string(),
    kind: ProposalKind,
    reason: z.string(),
  }),
  /** an approver voted on a plan under a plan quorum (the decision itself is plan.decided) */
  z.object({
    type: z.literal("plan.vote_recorded"),
    taskId: z.string(),
    runId: z.string(),
    approver: z.string(),
    vote: VoteChoice,
    approvals: z.number().int(),
    rejections: z.number().int(),
    required: z.number().int(),
  }),
  /** an agent's ask waits for a person (`kodo answer`, POST /api/approvals/{id}) until deadlineAt */
  z.object({
    type: z.literal("approval.requested"),
    taskId: z.string(),
    runId: z.string(),
    sessionId: z.string(),
    approvalId: z.string(),
    kind: ApprovalKind,
    permission: z.string().nullable(),
    patterns: z.array(z.string()),
    deadlineAt: z.string(),
  }),
  /** a person answered, the deadline did (reject), or a restart expired the ask (reject, expired) */
  z.object({
    type: z.literal("approval.answered"),
    taskId: z.string(),
    runId: z.string(),
    sessionId: z.string(),
    approvalId: z.string(),
    decision: ApprovalDecision,
    answeredBy: z.string(),
    byDeadline: z.boolean(),
    expired: z.boolean(),
  }),
]);
export type KodoEvent = z.infer<typeof KodoEvent>;
export type KodoEventType = KodoEvent["type"];

/** An event as stored and streamed: the payload plus its log position. */
export const StoredEvent = z.object({ id: z.number().int(), at: z.string(), event: KodoEvent });
export type StoredEvent = z.infer<typeof StoredEvent>;
