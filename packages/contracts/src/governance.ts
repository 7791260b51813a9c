import { z } from "zod";
import { Run } from "./api.js";

/**
 * Governance: a change that widens what agents may do (a policy, a write allowlist, a capability,
 * or the quorum rules themselves) is a proposal; it becomes active only when a quorum of the
 * repository's approvers approved it, and every blocking condition was marked met.
 */

/** Who acts: the `X-Kodo-Actor` header, an approver's name. Declared by the client, not authenticated. */
export const ActorName = z.string().regex(/^[A-Za-z0-9._@-]{1,100}$/, "a name is 1–100 characters of A-Z a-z 0-9 . _ @ -");

export const ProposalId = z.string().regex(/^prp_[a-z0-9]{6,40}$/, "a proposal id looks like prp_…");

export const ProposalKind = z.enum(["policy", "capability", "write_allowlist", "governance"]);
export type ProposalKind = z.infer<typeof ProposalKind>;

export const ProposalStatus = z.enum(["pending", "active", "rejected", "superseded"]);
export type ProposalStatus = z.infer<typeof ProposalStatus>;

export const VoteChoice = z.enum(["approve", "reject"]);
export type VoteChoice = z.infer<typeof VoteChoice>;

/** What an agent may do beyond the policy: a fixed list, extended here when kodo learns a new one. */
export const Capability = z.enum(["tests", "network", "subagents"]);
export type Capability = z.infer<typeof Capability>;

const Approvers = z
  .array(ActorName)
  .min(1, "at least one approver")
  .max(50)
  .refine((names) => new Set(names).size === names.length, { error: "approvers must be distinct" });

/** `required` of `approvers` must approve. Unanimous: `required` equals the number of approvers. */
export const Quorum = z
  .object({ approvers: Approvers, required: z.number().int().min(1, "required is at least 1") })
  .strict()
  .refine((quorum) => quorum.required <= quorum.approvers.length, { error: "required cannot exceed the number of approvers", path: ["required"] });
export type Quorum = z.infer<typeof Quorum>;

/** The rules of a repository: who approves proposals, how many must, and the plan quorum (if any). */
export const GovernanceRules = z
  .object({
    approvers: Approvers,
    required: z.number().int().min(1, "required is at least 1"),
    /** plan approvals of this repository's runs need this quorum; absent/null = one approver, as without governance */
    planQuorum: Quorum.nullable().optional(),
  })
  .strict()
  .refine((rules) => rules.required <= rules.approvers.length, { error: "required cannot exceed the number of approvers", path: ["required"] });
export type GovernanceRules = z.infer<typeof GovernanceRules>;

export const PutGovernanceRequest = z
  .object({
    repoPath: z.string().min(1, "repoPath must not be empty"),
    approvers: Approvers,
    required: z.number().int().min(1, "required is at least 1"),
    planQuorum: Quorum.nullable().optional(),
  })
  .strict()
  .refine((rules) => rules.required <= rules.approvers.length, { error: "required cannot exceed the number of approvers", path: ["required"] });
export type PutGovernanceRequest = z.infer<typeof PutGovernanceRequest>;

export const Governance = z.object({
  repoPath: z.string(),
  approvers: z.array(z.string()),
  required: z.number().int(),
  planQuorum: z.object({ approvers: z.array(z.string()), required: z.number().int() }).nullable(),
  version: z.number().int(),
  /** the governance proposal that set this version; null when it was set directly (the first one) */
  proposalId: z.string().nullable(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type Governance = z.infer<typeof Governance>;

export const BlockingCondition = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a condition id is letters, digits, '.', '_' or '-' (at most 64)"),
    description: z.string().trim().min(1, "description must not be empty").max(2000),
  })
  .strict();
export type BlockingCondition = z.infer<typeof BlockingCondition>;

/** A write allowlist entry: a path relative to the worktree, never absolute, never through `..`. */
export const RelativePath = z
  .string()
  .min(1, "a path must not be empty")
  .max(1000)
  .refine((entry) => !entry.includes("\0"), { error: "a path must not contain NUL" })
  .refine((entry) => !entry.startsWith("/") && !entry.startsWith("\\") && !/^[A-Za-z]:/.test(entry) && !entry.startsWith("~"), {
    error: "a path must be relative to the worktree",
  })
  .refine((entry) => !entry.split(/[\\/]/).includes(".."), { error: "a path must not contain '..'" });

/**
 * A policy proposal carries the policy file's text (`source`, JSON or YAML, so errors name a line
 * and field) or the policy document itself (`policy`); the server validates it as `kodo policy` does.
 */
export const PolicyPayload = z
  .object({
    policy: z.record(z.string(), z.unknown()).optional(),
    source: z.string().min(1).max(1_000_000).optional(),
    /** of `source`; default from `file`'s extension, else json */
    format: z.enum(["json", "yaml"]).optional(),
    /** the file name, for messages */
    file: z.string().min(1).max(1000).optional(),
  })
  .strict()
  .refine((payload) => (payload.policy === undefined) !== (payload.source === undefined), { error: "give exactly one of policy and source" });

export const WriteAllowlistPayload = z.object({ paths: z.array(RelativePath).max(200) }).strict();

/** The capabilities in force after activation: listed true = enabled; anything not listed is disabled. */
export const CapabilityPayload = z
  .object({ capabilities: z.partialRecord(Capability, z.boolean()) })
  .strict()
  .refine((payload) => Object.keys(payload.capabilities).length > 0, { error: "name at least one capability", path: ["capabilities"] });

const conditionsAreDistinct = (conditions: readonly BlockingCondition[]): boolean => new Set(conditions.map((condition) => condition.id)).size === conditions.length;
const BlockingConditions = z.array(BlockingCondition).max(20).refine(conditionsAreDistinct, { error: "condition ids must be distinct" });

const proposalBase = { repoPath: z.string().min(1, "repoPath must not be empty"), blockingConditions: BlockingConditions.optional() };

export const CreateProposalRequest = z.discriminatedUnion("kind", [
  z.object({ ...proposalBase, kind: z.literal("policy"), payload: PolicyPayload }).strict(),
  z.object({ ...proposalBase, kind: z.literal("write_allowlist"), payload: WriteAllowlistPayload }).strict(),
  z.object({ ...proposalBase, kind: z.literal("capability"), payload: CapabilityPayload }).strict(),
  z.object({ ...proposalBase, kind: z.literal("governance"), payload: GovernanceRules }).strict(),
]);
export type CreateProposalRequest = z.input<typeof CreateProposalRequest>;

export const VoteRequest = z
  .object({
    vote: VoteChoice,
    /** {conditionId: true (met) | false (unmet)}; a later vote of the same approver may add or change marks */
    conditions: z.record(z.string().min(1).max(64), z.boolean()).optional(),
    comment: z.string().trim().min(1).max(10_000).optional(),
  })
  .strict();
export type VoteRequest = z.infer<typeof VoteRequest>;

export const ProposalVote = z.object({
  approver: z.string(),
  vote: VoteChoice,
  conditions: z.record(z.string(), z.boolean()),
  comment: z.string().nullable(),
  votedAt: z.string(),
  /** when the approver last changed their condition marks */
  amendedAt: z.string().nullable(),
});
export type ProposalVote = z.infer<typeof ProposalVote>;

/** Where a quorum stands, as a value: a stable code and a reason a person can read. */
export const QuorumTally = z.object({
  code: z.enum(["QUORUM_REACHED", "QUORUM_UNREACHABLE", "AWAITING_VOTES", "CONDITIONS_UNMET"]),
  reason: z.string(),
  approvals: z.number().int(),
  rejections: z.number().int(),
  /** approvers who have not voted */
  outstanding: z.array(z.string()),
  required: z.number().int(),
  /** blocking conditions not (yet) met */
  unmetConditions: z.array(z.string()),
});
export type QuorumTally = z.infer<typeof QuorumTally>;

export const Proposal = z.object({
  id: z.string(),
  repoPath: z.string(),
  kind: ProposalKind,
  payload: z.record(z.string(), z.unknown()),
  approvers: z.array(z.string()),
  required: z.number().int(),
  blockingConditions: z.array(BlockingCondition),
  status: ProposalStatus,
  /** the version of its kind it became on activation */
  version: z.number().int().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  reason: z.string().nullable(),
  votes: z.array(ProposalVote),
  tally: QuorumTally,
});
export type Proposal = z.infer<typeof Proposal>;

export const ProposalList = z.object({ proposals: z.array(Proposal) });

const ActiveVersion = z.object({ version: z.number().int(), proposalId: z.string().nullable(), activatedAt: z.string() });
export type ActiveVersion = z.infer<typeof ActiveVersion>;

/** What is in force for a repository, and which proposal put each part there. */
export const ActiveGovernance = z.object({
  repoPath: z.string(),
  /** the active policy document (validated at proposal time); null = none proposed yet */
  policy: z.record(z.string(), z.unknown()).nullable(),
  /** paths relative to the worktree; null = none proposed yet */
  writeAllowlist: z.array(z.string()).nullable(),
  /** enabled capabilities; {} = none */
  capabilities: z.record(z.string(), z.boolean()),
  versions: z.object({
    policy: ActiveVersion.nullable(),
    writeAllowlist: ActiveVersion.nullable(),
    capabilities: ActiveVersion.nullable(),
    governance: ActiveVersion.nullable(),
  }),
});
export type ActiveGovernance = z.infer<typeof ActiveGovernance>;

export const PlanVote = z.object({ approver: z.string(), vote: VoteChoice, comment: z.string().nullable(), votedAt: z.string() });
export type PlanVote = z.infer<typeof PlanVote>;

/** A run's plan under a quorum: the rules copied at the first vote, the votes, and the tally. */
export const PlanQuorumStatus = z.object({
  runId: z.string(),
  approvers: z.array(z.string()),
  required: z.number().int(),
  votes: z.array(PlanVote),
  tally: QuorumTally,
  /** set once the quorum decided */
  decision: z.enum(["approved", "rejected"]).nullable(),
});
export type PlanQuorumStatus = z.infer<typeof PlanQuorumStatus>;

/** The answer of approve-plan/reject-plan: the run, plus the quorum's state when the repository has one. */
export const PlanDecisionResponse = Run.extend({ planQuorum: PlanQuorumStatus.optional() });
export type PlanDecisionResponse = z.infer<typeof PlanDecisionResponse>;
