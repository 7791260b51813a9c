import { z } from "zod";

/**
 * The permission bridge: an agent's ask (an OpenCode permission or question) that kodo answers by
 * policy or hands to a person, with a deadline.
 */
export const ApprovalKind = z.enum(["permission", "question"]);
export type ApprovalKind = z.infer<typeof ApprovalKind>;

export const ApprovalStatus = z.enum(["pending", "answered", "expired"]);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** OpenCode's replies: allow this call, allow calls like it for the rest of the session, refuse. */
export const ApprovalDecision = z.enum(["once", "always", "reject"]);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** The policy decision that answered the ask, or sent it to a person. */
export const PolicyVerdict = z.object({
  action: z.enum(["allow", "deny", "ask"]),
  code: z.string(),
  reason: z.string(),
  matchedRules: z.array(z.string()),
});
export type PolicyVerdict = z.infer<typeof PolicyVerdict>;

/** One question of OpenCode's `question` tool. */
export const ApprovalQuestion = z.object({
  question: z.string(),
  header: z.string(),
  options: z.array(z.object({ label: z.string(), description: z.string() })),
  multiple: z.boolean().optional(),
  custom: z.boolean().optional(),
});
export type ApprovalQuestion = z.infer<typeof ApprovalQuestion>;

export const ApprovalId = z.string().regex(/^apr_[a-z0-9]{6,40}$/, "an approval id looks like apr_…");

export const Approval = z.object({
  id: z.string(),
  runId: z.string(),
  taskId: z.string(),
  sessionId: z.string(),
  kind: ApprovalKind,
  /** OpenCode's id of the request (per_… / que_…) */
  requestId: z.string(),
  permission: z.string().nullable(),
  patterns: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  questions: z.array(ApprovalQuestion).nullable(),
  decidedByPolicy: PolicyVerdict.nullable(),
  status: ApprovalStatus,
  decision: ApprovalDecision.nullable(),
  /** what the model is told with the answer (for a question: the answer text) */
  message: z.string().nullable(),
  /** the API actor, or `kodo:policy`, `kodo:deadline`, `kodo:restart` */
  answeredBy: z.string().nullable(),
  serverInstance: z.string(),
  createdAt: z.string(),
  deadlineAt: z.string(),
  answeredAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  deliveryError: z.string().nullable(),
});
export type Approval = z.infer<typeof Approval>;

export const APPROVAL_MESSAGE_MAX = 10_000;

export const AnswerApprovalRequest = z
  .object({
    decision: ApprovalDecision,
    /** handed to the model with the answer; for a question, the answer itself */
    message: z.string().trim().min(1, "message must not be empty").max(APPROVAL_MESSAGE_MAX).optional(),
  })
  .strict();
export type AnswerApprovalRequest = z.infer<typeof AnswerApprovalRequest>;

export const ApprovalStatusFilter = z.enum(["pending", "answered", "expired", "all"]);
export type ApprovalStatusFilter = z.infer<typeof ApprovalStatusFilter>;

export const ApprovalList = z.object({ approvals: z.array(Approval) });
export type ApprovalList = z.infer<typeof ApprovalList>;
