/**
 * Where a quorum stands, as a value (pure). Used for proposals (with blocking conditions) and for
 * plan approvals under a plan quorum (without).
 */
import type { QuorumTally, VoteChoice } from "@kodo/contracts";

export interface QuorumVote {
  approver: string;
  vote: VoteChoice;
  /** {conditionId: met?} as this approver marked them */
  conditions?: Readonly<Record<string, boolean>>;
}

export interface QuorumRules {
  approvers: readonly string[];
  required: number;
  /** ids of the blocking conditions */
  conditions?: readonly string[];
}

/**
 * A blocking condition is met when at least one approving vote marked it true and no vote marked
 * it false. The quorum is reached when approvals ≥ required and every condition is met; it is
 * unreachable when the approvals still possible (approvals + approvers who have not voted) fall
 * below required. Only votes of listed approvers count.
 */
export function tallyQuorum(rules: QuorumRules, votes: readonly QuorumVote[]): QuorumTally {
  const listed = new Set(rules.approvers);
  const counted = votes.filter((vote) => listed.has(vote.approver));
  const approvals = counted.filter((vote) => vote.vote === "approve").length;
  const rejections = counted.filter((vote) => vote.vote === "reject").length;
  const voted = new Set(counted.map((vote) => vote.approver));
  const outstanding = rules.approvers.filter((approver) => !voted.has(approver));
  const unmetConditions = (rules.conditions ?? []).filter((id) => {
    const markedUnmet = counted.some((vote) => vote.conditions?.[id] === false);
    const markedMet = counted.some((vote) => vote.vote === "approve" && vote.conditions?.[id] === true);
    return markedUnmet || !markedMet;
  });
  const base = { approvals, rejections, outstanding, required: rules.required, unmetConditions };
  const possible = approvals + outstanding.length;
  if (possible < rules.required) {
    return {
      ...base,
      code: "QUORUM_UNREACHABLE",
      reason: `${rejections} of ${rules.approvers.length} approvers rejected: at most ${possible} approvals are still possible, ${rules.required} are required`,
    };
  }
  if (approvals < rules.required) {
    return { ...base, code: "AWAITING_VOTES", reason: `${approvals} of ${rules.required} required approvals; waiting for ${outstanding.join(", ")}` };
  }
  if (unmetConditions.length > 0) {
    return {
      ...base,
      code: "CONDITIONS_UNMET",
      reason: `${approvals} of ${rules.required} required approvals, but blocking condition${unmetConditions.length === 1 ? "" : "s"} ${unmetConditions.join(", ")} not met`,
    };
  }
  return { ...base, code: "QUORUM_REACHED", reason: `${approvals} of ${rules.required} required approvals${(rules.conditions ?? []).length > 0 ? ", every blocking condition met" : ""}` };
}
