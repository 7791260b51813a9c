/** Human output of governance: quorum rules, what is in force, proposals and their votes. */
import type { ActiveGovernance, Governance, Proposal } from "@kodo/contracts";
import { columns, dateTime, truncate } from "./format.js";

const quorumText = (quorum: { approvers: readonly string[]; required: number }): string =>
  `${quorum.required} of ${quorum.approvers.join(", ")}${quorum.required === quorum.approvers.length ? " (unanimous)" : ""}`;

export function formatGovernance(governance: Governance): string[] {
  return [
    `repository   ${governance.repoPath}`,
    `proposals    ${quorumText(governance)} must approve`,
    `plan quorum  ${governance.planQuorum === null ? "(none: one approver decides a plan)" : `${quorumText(governance.planQuorum)} must approve`}`,
    `version      ${governance.version} (${governance.proposalId === null ? `set directly by ${governance.updatedBy}` : `proposal ${governance.proposalId}`}, ${dateTime(governance.updatedAt)})`,
  ];
}

export function formatActive(active: ActiveGovernance): string[] {
  const version = (entry: ActiveGovernance["versions"]["policy"]): string => (entry === null ? "" : `  (version ${entry.version}, ${entry.proposalId ?? "set directly"})`);
  const enabled = Object.entries(active.capabilities).filter(([, on]) => on).map(([name]) => name);
  return [
    `policy          ${active.policy === null ? "(none proposed: the defaults)" : `${Array.isArray(active.policy["rules"]) ? active.policy["rules"].length : 0} rules`}${version(active.versions.policy)}`,
    `write allowlist ${active.writeAllowlist === null ? "(none proposed)" : active.writeAllowlist.join(", ") || "(empty)"}${version(active.versions.writeAllowlist)}`,
    `capabilities    ${enabled.length === 0 ? "(none enabled)" : enabled.join(", ")}${version(active.versions.capabilities)}`,
  ];
}

export function formatProposal(proposal: Proposal): string[] {
  const lines = [
    `proposal ${proposal.id}  ${proposal.status}  ${proposal.kind}${proposal.version === null ? "" : ` (version ${proposal.version})`}`,
    `  repository   ${proposal.repoPath}`,
    `  proposed     by ${proposal.createdBy}, ${dateTime(proposal.createdAt)}`,
    `  quorum       ${quorumText(proposal)}`,
    `  tally        ${proposal.tally.code}: ${proposal.tally.reason}`,
    `  payload      ${truncate(JSON.stringify(proposal.payload["policy"] ?? proposal.payload), 100)}`,
  ];
  if (proposal.reason !== null) lines.push(`  decided      ${proposal.reason}${proposal.decidedAt === null ? "" : `, ${dateTime(proposal.decidedAt)}`}`);
  if (proposal.blockingConditions.length > 0) {
    lines.push("  blocking conditions:");
    for (const condition of proposal.blockingConditions) {
      const met = !proposal.tally.unmetConditions.includes(condition.id);
      lines.push(`    [${met ? "met" : "unmet"}] ${condition.id}: ${condition.description}`);
    }
  }
  if (proposal.votes.length > 0) {
    lines.push("  votes:");
    for (const vote of proposal.votes) {
      const marks = Object.entries(vote.conditions).map(([id, met]) => `${id} ${met ? "met" : "unmet"}`);
      lines.push(`    ${vote.approver} ${vote.vote}${marks.length === 0 ? "" : ` (${marks.join(", ")})`}${vote.comment === null ? "" : `: ${truncate(vote.comment, 80)}`}`);
    }
  }
  return lines;
}

export function formatProposalTable(proposals: readonly Proposal[]): string[] {
  if (proposals.length === 0) return ["no proposals"];
  return columns([
    ["ID", "STATUS", "KIND", "VOTES", "CREATED", "REPOSITORY"],
    ...proposals.map((proposal) => [
      proposal.id,
      proposal.status,
      proposal.kind,
      `${proposal.tally.approvals}/${proposal.required}${proposal.tally.rejections > 0 ? ` -${proposal.tally.rejections}` : ""}`,
      dateTime(proposal.createdAt),
      proposal.repoPath,
    ]),
  ]);
}
