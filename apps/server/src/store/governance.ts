/**
 * Governance rows: a repository's quorum rules, proposals and their votes, and what is in force.
 * Writers call these inside one transaction, after `lockRepoGovernance`, so two votes of one
 * repository never decide at the same time.
 */
import type { Pool, PoolClient } from "pg";
import type {
  ActiveGovernance,
  ActiveVersion,
  BlockingCondition,
  Governance,
  GovernanceRules,
  Proposal,
  ProposalKind,
  ProposalStatus,
  ProposalVote,
  Quorum,
  VoteChoice,
} from "@kodo/contracts";
import { tallyQuorum } from "../domain/quorum.js";
import { KodoError } from "../lib/errors.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

/** The kinds whose payload lands in repo_active_governance (governance lands in repo_governance). */
export type ActiveKind = Exclude<ProposalKind, "governance">;

interface GovernanceRow {
  repo_path: string;
  approvers: string[];
  required: number;
  plan_quorum: Quorum | null;
  version: number;
  proposal_id: string | null;
  updated_by: string;
  updated_at: Date;
}

export interface ProposalRow {
  id: string;
  repo_path: string;
  kind: ProposalKind;
  payload: Record<string, unknown>;
  approvers: string[];
  required: number;
  blocking_conditions: BlockingCondition[];
  status: ProposalStatus;
  version: number | null;
  created_by: string;
  created_at: Date;
  decided_at: Date | null;
  reason: string | null;
}

interface VoteRow {
  proposal_id: string;
  approver: string;
  vote: VoteChoice;
  conditions: Record<string, boolean>;
  comment: string | null;
  voted_at: Date;
  amended_at: Date | null;
}

interface ActiveRow {
  kind: ActiveKind;
  value: unknown;
  proposal_id: string;
  version: number;
  activated_at: Date;
}

/** Serializes governance writes of one repository until the transaction ends. */
export async function lockRepoGovernance(db: Queryable, repoPath: string): Promise<void> {
  await db.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`kodo.governance:${repoPath}`]);
}

function toGovernance(row: GovernanceRow): Governance {
  return {
    repoPath: row.repo_path,
    approvers: row.approvers,
    required: row.required,
    planQuorum: row.plan_quorum,
    version: row.version,
    proposalId: row.proposal_id,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function findGovernance(db: Queryable, repoPath: string): Promise<Governance | undefined> {
  const result = await db.query<GovernanceRow>(`SELECT * FROM kodo.repo_governance WHERE repo_path = $1`, [repoPath]);
  const row = result.rows[0];
  return row === undefined ? undefined : toGovernance(row);
}

/** The first governance of a repository (set directly, version 1). */
export async function insertGovernance(db: Queryable, input: { repoPath: string; rules: GovernanceRules; by: string; at: Date }): Promise<void> {
  await db.query(
    `INSERT INTO kodo.repo_governance (repo_path, approvers, required, plan_quorum, version, proposal_id, updated_by, updated_at)
     VALUES ($1, $2, $3, $4, 1, NULL, $5, $6)`,
    [input.repoPath, input.rules.approvers, input.rules.required, input.rules.planQuorum == null ? null : JSON.stringify(input.rules.planQuorum), input.by, input.at],
  );
}

export async function insertProposal(
  db: Queryable,
  input: { id: string; repoPath: string; kind: ProposalKind; payload: Record<string, unknown>; quorum: { approvers: string[]; required: number }; blockingConditions: BlockingCondition[]; createdBy: string; at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO kodo.proposals (id, repo_path, kind, payload, approvers, required, blocking_conditions, status, created_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)`,
    [input.id, input.repoPath, input.kind, JSON.stringify(input.payload), input.quorum.approvers, input.quorum.required, JSON.stringify(input.blockingConditions), input.createdBy, input.at],
  );
}

export async function findProposalRow(db: Queryable, id: string, lock = false): Promise<ProposalRow | undefined> {
  const result = await db.query<ProposalRow>(`SELECT * FROM kodo.proposals WHERE id = $1${lock ? " FOR UPDATE" : ""}`, [id]);
  return result.rows[0];
}

export async function listProposalRows(db: Queryable, filter: { repoPath?: string; status?: ProposalStatus; limit: number }): Promise<ProposalRow[]> {
  const result = await db.query<ProposalRow>(
    `SELECT * FROM kodo.proposals WHERE ($1::text IS NULL OR repo_path = $1) AND ($2::text IS NULL OR status = $2)
      ORDER BY created_at DESC, id DESC LIMIT $3`,
    [filter.repoPath ?? null, filter.status ?? null, filter.limit],
  );
  return result.rows;
}

function toVote(row: VoteRow): ProposalVote {
  return {
    approver: row.approver,
    vote: row.vote,
    conditions: row.conditions,
    comment: row.comment,
    votedAt: row.voted_at.toISOString(),
    amendedAt: row.amended_at?.toISOString() ?? null,
  };
}

/** The votes of each proposal, oldest first. */
export async function votesOf(db: Queryable, proposalIds: readonly string[]): Promise<Map<string, ProposalVote[]>> {
  const votes = new Map<string, ProposalVote[]>(proposalIds.map((id) => [id, []]));
  if (proposalIds.length === 0) return votes;
  const result = await db.query<VoteRow>(`SELECT * FROM kodo.proposal_votes WHERE proposal_id = ANY($1) ORDER BY voted_at, approver`, [proposalIds]);
  for (const row of result.rows) votes.get(row.proposal_id)?.push(toVote(row));
  return votes;
}

export async function insertVote(
  db: Queryable,
  input: { proposalId: string; approver: string; vote: VoteChoice; conditions: Record<string, boolean>; comment: string | null; at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO kodo.proposal_votes (proposal_id, approver, vote, conditions, comment, voted_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [input.proposalId, input.approver, input.vote, JSON.stringify(input.conditions), input.comment, input.at],
  );
}

/** Changes an approver's condition marks (and comment); the vote itself never changes. */
export async function amendVote(db: Queryable, input: { proposalId: string; approver: string; conditions: Record<string, boolean>; comment: string | null; at: Date }): Promise<void> {
  await db.query(`UPDATE kodo.proposal_votes SET conditions = $3, comment = $4, amended_at = $5 WHERE proposal_id = $1 AND approver = $2`, [
    input.proposalId,
    input.approver,
    JSON.stringify(input.conditions),
    input.comment,
    input.at,
  ]);
}

export function tallyOf(row: ProposalRow, votes: readonly ProposalVote[]): Proposal["tally"] {
  return tallyQuorum({ approvers: row.approvers, required: row.required, conditions: row.blocking_conditions.map((condition) => condition.id) }, votes);
}

export function toProposal(row: ProposalRow, votes: readonly ProposalVote[]): Proposal {
  return {
    id: row.id,
    repoPath: row.repo_path,
    kind: row.kind,
    payload: row.payload,
    approvers: row.approvers,
    required: row.required,
    blockingConditions: row.blocking_conditions,
    status: row.status,
    version: row.version,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    reason: row.reason,
    votes: [...votes],
    tally: tallyOf(row, votes),
  };
}

/** What activating a proposal puts in force: the policy document, the paths, the capabilities, the rules. */
function activeValue(row: ProposalRow): unknown {
  switch (row.kind) {
    case "policy":
      return row.payload["policy"];
    case "write_allowlist":
      return row.payload["paths"];
    case "capability":
      return row.payload["capabilities"];
    case "governance":
      return row.payload;
  }
}

/**
 * Activates a pending proposal: the previous active one of the same repository and kind becomes
 * superseded, the payload is put in force with the next version number. Call inside the
 * transaction of the deciding vote, under `lockRepoGovernance`.
 */
export async function activateProposal(db: Queryable, row: ProposalRow, at: Date): Promise<{ version: number; superseded: string | null }> {
  const previous = await db.query<{ id: string }>(
    `UPDATE kodo.proposals SET status = 'superseded' WHERE repo_path = $1 AND kind = $2 AND status = 'active' AND id <> $3 RETURNING id`,
    [row.repo_path, row.kind, row.id],
  );
  const superseded = previous.rows[0]?.id ?? null;
  let version: number;
  if (row.kind === "governance") {
    const rules = row.payload as GovernanceRules;
    const updated = await db.query<{ version: number }>(
      `UPDATE kodo.repo_governance SET approvers = $2, required = $3, plan_quorum = $4, version = version + 1, proposal_id = $5, updated_by = $6, updated_at = $7
        WHERE repo_path = $1 RETURNING version`,
      [row.repo_path, rules.approvers, rules.required, rules.planQuorum == null ? null : JSON.stringify(rules.planQuorum), row.id, `proposal ${row.id}`, at],
    );
    const first = updated.rows[0];
    if (first === undefined) throw new KodoError("GOVERNANCE_NOT_CONFIGURED", `repository ${row.repo_path} has no governance to change`);
    version = first.version;
  } else {
    const upserted = await db.query<{ version: number }>(
      `INSERT INTO kodo.repo_active_governance (repo_path, kind, value, proposal_id, version, activated_at) VALUES ($1, $2, $3, $4, 1, $5)
       ON CONFLICT (repo_path, kind) DO UPDATE
         SET value = EXCLUDED.value, proposal_id = EXCLUDED.proposal_id, version = kodo.repo_active_governance.version + 1, activated_at = EXCLUDED.activated_at
       RETURNING version`,
      [row.repo_path, row.kind, JSON.stringify(activeValue(row)), row.id, at],
    );
    version = upserted.rows[0]?.version ?? 1;
  }
  await db.query(`UPDATE kodo.proposals SET status = 'active', version = $2, decided_at = $3, reason = $4 WHERE id = $1`, [
    row.id,
    version,
    at,
    superseded === null ? "activated by its quorum" : `activated by its quorum; supersedes ${superseded}`,
  ]);
  return { version, superseded };
}

export async function rejectProposal(db: Queryable, id: string, reason: string, at: Date): Promise<void> {
  await db.query(`UPDATE kodo.proposals SET status = 'rejected', decided_at = $2, reason = $3 WHERE id = $1`, [id, at, reason]);
}

function versionOf(row: ActiveRow | undefined): ActiveVersion | null {
  return row === undefined ? null : { version: row.version, proposalId: row.proposal_id, activatedAt: row.activated_at.toISOString() };
}

/**
 * What is in force for a repository (`repoPath` is its root, as tasks store it): the active policy
 * document (validated with the policy schema when it was proposed; validate again before use if
 * the schema may have changed), the write allowlist (paths relative to the worktree), the enabled
 * capabilities, and which proposal and version put each there. Nothing active: nulls and `{}`.
 */
export async function activeGovernance(db: Queryable, repoPath: string): Promise<ActiveGovernance> {
  const result = await db.query<ActiveRow>(`SELECT kind, value, proposal_id, version, activated_at FROM kodo.repo_active_governance WHERE repo_path = $1`, [repoPath]);
  const byKind = new Map(result.rows.map((row) => [row.kind, row]));
  const policy = byKind.get("policy");
  const allowlist = byKind.get("write_allowlist");
  const capabilities = byKind.get("capability");
  const governance = await findGovernance(db, repoPath);
  return {
    repoPath,
    policy: policy === undefined ? null : (policy.value as Record<string, unknown>),
    writeAllowlist: allowlist === undefined ? null : (allowlist.value as string[]),
    capabilities: capabilities === undefined ? {} : (capabilities.value as Record<string, boolean>),
    versions: {
      policy: versionOf(policy),
      writeAllowlist: versionOf(allowlist),
      capabilities: versionOf(capabilities),
      governance: governance === undefined ? null : { version: governance.version, proposalId: governance.proposalId, activatedAt: governance.updatedAt },
    },
  };
}
