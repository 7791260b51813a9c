/** A plan quorum's votes, said in a line: "1 of 2 approvals: alice", and the rejections when there are some. */
import type { PlanQuorumStatus } from "@kodo/contracts";

export const names = (items: readonly string[]): string => items.join(", ");

export function quorumTally(quorum: Pick<PlanQuorumStatus, "required" | "votes">): string {
  const approvers = quorum.votes.filter((vote) => vote.vote === "approve").map((vote) => vote.approver);
  const rejecters = quorum.votes.filter((vote) => vote.vote === "reject").map((vote) => vote.approver);
  const approvals = `${approvers.length} of ${quorum.required} ${quorum.required === 1 ? "approval" : "approvals"}${approvers.length > 0 ? `: ${names(approvers)}` : ""}`;
  return rejecters.length === 0 ? approvals : `${approvals} · ${rejecters.length} ${rejecters.length === 1 ? "rejection" : "rejections"}: ${names(rejecters)}`;
}
