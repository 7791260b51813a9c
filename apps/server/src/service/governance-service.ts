/**
 * Quorum approvals: a repository's governance (who approves, how many must), proposals that widen
 * what agents may do, and the votes that activate or reject them. Every write is one transaction
 * under the repository's governance lock and carries its events; activation applies the payload in
 * the transaction of the deciding vote.
 */
import path from "node:path";
import type { Pool, PoolClient } from "pg";
import {
  CreateProposalRequest,
  PutGovernanceRequest,
  VoteRequest,
  type ActiveGovernance,
  type Governance,
  type PlanQuorumStatus,
  type Proposal,
  type ProposalStatus,
} from "@kodo/contracts";
import { withTransaction } from "../db/database.js";
import { KodoError, isKodoError } from "../lib/errors.js";
import { newId, type Clock, type Random } from "../lib/ports.js";
import { formatOf, parsePolicy, type PolicyFormat } from "../policy/load.js";
import { appendEvent } from "../store/events.js";
import {
  activateProposal,
  activeGovernance,
  amendVote,
  findGovernance,
  findProposalRow,
  insertGovernance,
  insertProposal,
  insertVote,
  listProposalRows,
  lockRepoGovernance,
  rejectProposal,
  tallyOf,
  toProposal,
  votesOf,
  type ProposalRow,
} from "../store/governance.js";
import { planQuorumStatus } from "../store/plan-quorum.js";
import { isUniqueViolation } from "../store/runs.js";
import { inspectRepo } from "../workspace/worktree.js";

export interface GovernanceDeps {
  pool: Pool;
  clock: Clock;
  random: Random;
  /** a path inside a repository → the repository's root (default: git, as repo settings do) */
  repoRoot?: (repoPath: string) => Promise<string>;
}

type ProposalInput = ReturnType<typeof CreateProposalRequest.parse>;

interface Rules {
  approvers: readonly string[];
  required: number;
  planQuorum?: { approvers: readonly string[]; required: number } | null;
}

/** The same rules (jsonb does not keep key order, so compare field by field). */
const sameRules = (a: Rules, b: Rules): boolean => {
  const flat = (rules: Rules) => JSON.stringify([rules.approvers, rules.required, rules.planQuorum?.approvers ?? null, rules.planQuorum?.required ?? null]);
  return flat(a) === flat(b);
};

/** A policy payload, validated the way `kodo policy` reads a file; problems as VALIDATION_FAILED with line and field. */
function validatePolicy(payload: Extract<ProposalInput, { kind: "policy" }>["payload"]): Record<string, unknown> {
  const file = payload.file ?? "payload.policy";
  const format: PolicyFormat = payload.format ?? formatOf(file) ?? "json";
  const text = payload.source ?? JSON.stringify(payload.policy, null, 2);
  try {
    const policy = parsePolicy(text, { file, format: payload.source === undefined ? "json" : format });
    return { policy, ...(payload.source === undefined ? {} : { source: payload.source, format, file }) };
  } catch (error) {
    if (isKodoError(error) && error.code === "POLICY_INVALID") {
      throw new KodoError("VALIDATION_FAILED", `the proposed policy is invalid: ${error.message}`, { details: { ...error.details } });
    }
    throw error;
  }
}

/** Write allowlist entries, normalized (`./src/` → `src`) and without duplicates. */
function normalizePaths(paths: readonly string[]): string[] {
  const normalized = paths.map((entry) => path.posix.normalize(entry.replaceAll("\\", "/")).replace(/\/+$/, "") || ".");
  for (const [index, entry] of normalized.entries()) {
    if (entry.split("/").includes("..") || path.posix.isAbsolute(entry)) {
      throw new KodoError("VALIDATION_FAILED", `payload.paths.${index}: ${JSON.stringify(paths[index])} must be a relative path inside the worktree`, {
        details: { issues: [{ path: `payload.paths.${index}`, message: "must be a relative path inside the worktree" }] },
      });
    }
  }
  return [...new Set(normalized)];
}

function validatedPayload(request: ProposalInput): Record<string, unknown> {
  switch (request.kind) {
    case "policy":
      return validatePolicy(request.payload);
    case "write_allowlist":
      return { paths: normalizePaths(request.payload.paths) };
    case "capability":
      return { capabilities: request.payload.capabilities };
    case "governance":
      return { approvers: request.payload.approvers, required: request.payload.required, planQuorum: request.payload.planQuorum ?? null };
  }
}

export class GovernanceService {
  readonly #deps: GovernanceDeps;

  constructor(deps: GovernanceDeps) {
    this.#deps = deps;
  }

  async #root(repoPath: string): Promise<string> {
    return this.#deps.repoRoot === undefined ? (await inspectRepo(repoPath, "HEAD")).repoRoot : this.#deps.repoRoot(repoPath);
  }

  async governance(repoPath: string): Promise<Governance> {
    const root = await this.#root(repoPath);
    const found = await findGovernance(this.#deps.pool, root);
    if (found === undefined) {
      throw new KodoError("NOT_FOUND", `repository ${root} has no governance; set it with PUT /api/repos/governance (kodo governance set)`, { details: { repoPath: root } });
    }
    return found;
  }

  /**
   * Sets a repository's first governance. Once it has one, only a `governance` proposal changes it
   * (GOVERNANCE_EXISTS); the same rules again are an idempotent retry.
   */
  async putGovernance(input: unknown, actor: string): Promise<Governance> {
    const request = PutGovernanceRequest.parse(input);
    const root = await this.#root(request.repoPath);
    const rules = { approvers: request.approvers, required: request.required, planQuorum: request.planQuorum ?? null };
    await withTransaction(this.#deps.pool, async (tx) => {
      await lockRepoGovernance(tx, root);
      const existing = await findGovernance(tx, root);
      if (existing !== undefined) {
        if (sameRules(existing, rules)) return;
        throw new KodoError("GOVERNANCE_EXISTS", `repository ${root} already has governance (version ${existing.version}); propose a change: kodo propose governance …`, {
          details: { repoPath: root, version: existing.version },
        });
      }
      await insertGovernance(tx, { repoPath: root, rules, by: actor, at: this.#deps.clock.now() });
    });
    return this.governance(root);
  }

  async active(repoPath: string): Promise<ActiveGovernance> {
    return activeGovernance(this.#deps.pool, await this.#root(repoPath));
  }

  async createProposal(input: unknown, actor: string): Promise<Proposal> {
    const request = CreateProposalRequest.parse(input);
    const payload = validatedPayload(request);
    const root = await this.#root(request.repoPath);
    const { pool, clock, random } = this.#deps;
    for (let tries = 0; ; tries += 1) {
      const id = newId("prp", clock, random);
      try {
        await withTransaction(pool, async (tx) => {
          await lockRepoGovernance(tx, root);
          const governance = await findGovernance(tx, root);
          if (governance === undefined) {
            throw new KodoError("GOVERNANCE_NOT_CONFIGURED", `repository ${root} has no governance: set its approvers first (kodo governance set)`, { details: { repoPath: root } });
          }
          const quorum = { approvers: governance.approvers, required: governance.required };
          await insertProposal(tx, { id, repoPath: root, kind: request.kind, payload, quorum, blockingConditions: request.blockingConditions ?? [], createdBy: actor, at: clock.now() });
          await appendEvent(tx, { type: "proposal.created", proposalId: id, repoPath: root, kind: request.kind, createdBy: actor, ...quorum });
        });
        return await this.getProposal(id);
      } catch (error) {
        if (tries < 5 && isUniqueViolation(error, "proposals_pkey")) continue;
        throw error;
      }
    }
  }

  async listProposals(filter: { repoPath?: string; status?: ProposalStatus; limit?: number } = {}): Promise<Proposal[]> {
    const repoPath = filter.repoPath === undefined ? undefined : await this.#root(filter.repoPath);
    const rows = await listProposalRows(this.#deps.pool, {
      ...(repoPath === undefined ? {} : { repoPath }),
      ...(filter.status === undefined ? {} : { status: filter.status }),
      limit: filter.limit ?? 200,
    });
    const votes = await votesOf(this.#deps.pool, rows.map((row) => row.id));
    return rows.map((row) => toProposal(row, votes.get(row.id) ?? []));
  }

  async getProposal(id: string): Promise<Proposal> {
    const row = await findProposalRow(this.#deps.pool, id);
    if (row === undefined) throw new KodoError("NOT_FOUND", `proposal ${id} not found`, { details: { proposalId: id } });
    return toProposal(row, (await votesOf(this.#deps.pool, [id])).get(id) ?? []);
  }

  /** The plan quorum of a run: its rules (copied at the first vote), the votes and the tally. */
  async planVotes(runId: string): Promise<PlanQuorumStatus> {
    const status = await planQuorumStatus(this.#deps.pool, runId);
    if (status === undefined) throw new KodoError("NOT_FOUND", `run ${runId} has no plan votes (its repository has no plan quorum, or nobody voted yet)`, { details: { runId } });
    return status;
  }

  /**
   * `approver` votes on a proposal. Only a listed approver may (FORBIDDEN); the vote never changes
   * (VOTE_CONFLICT), but a later vote of the same choice may add or change condition marks and
   * the comment; the same vote again changes nothing. The vote that reaches the quorum (with
   * every blocking condition met) activates the proposal; the one that makes it unreachable rejects it.
   */
  async vote(proposalId: string, input: unknown, approver: string): Promise<Proposal> {
    const request = VoteRequest.parse(input);
    const { pool } = this.#deps;
    const unlocked = await findProposalRow(pool, proposalId);
    if (unlocked === undefined) throw new KodoError("NOT_FOUND", `proposal ${proposalId} not found`, { details: { proposalId } });
    await withTransaction(pool, async (tx) => {
      await lockRepoGovernance(tx, unlocked.repo_path);
      const row = await findProposalRow(tx, proposalId, true);
      if (row === undefined) throw new KodoError("NOT_FOUND", `proposal ${proposalId} not found`, { details: { proposalId } });
      await this.#recordVote(tx, row, request, approver);
    });
    return this.getProposal(proposalId);
  }

  async #recordVote(tx: PoolClient, row: ProposalRow, request: VoteRequest, approver: string): Promise<void> {
    const known = new Set(row.blocking_conditions.map((condition) => condition.id));
    const marks = request.conditions ?? {};
    const unknown = Object.keys(marks).filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new KodoError("VALIDATION_FAILED", `proposal ${row.id} has no blocking condition ${unknown.join(", ")}${known.size === 0 ? "" : ` (it has ${[...known].join(", ")})`}`, {
        details: { issues: unknown.map((id) => ({ path: `conditions.${id}`, message: "no such blocking condition" })) },
      });
    }
    if (!row.approvers.includes(approver)) {
      throw new KodoError("FORBIDDEN", `${approver} is not an approver of proposal ${row.id} (approvers: ${row.approvers.join(", ")})`, {
        details: { proposalId: row.id, approver, approvers: row.approvers },
      });
    }
    const votes = (await votesOf(tx, [row.id])).get(row.id) ?? [];
    const own = votes.find((vote) => vote.approver === approver);
    if (own !== undefined && own.vote !== request.vote) {
      throw new KodoError("VOTE_CONFLICT", `${approver} already voted ${own.vote} on proposal ${row.id}; a vote cannot be changed`, {
        details: { proposalId: row.id, approver, vote: own.vote },
      });
    }
    const conditions = { ...own?.conditions, ...marks };
    const comment = request.comment ?? own?.comment ?? null;
    const changed = own === undefined || JSON.stringify(conditions) !== JSON.stringify(own.conditions) || comment !== own.comment;
    if (!changed) return; // the same vote again: nothing to record
    if (row.status !== "pending") {
      throw new KodoError("PROPOSAL_NOT_PENDING", `proposal ${row.id} is ${row.status}; only a pending proposal takes votes`, { details: { proposalId: row.id, status: row.status } });
    }
    const at = this.#deps.clock.now();
    if (own === undefined) await insertVote(tx, { proposalId: row.id, approver, vote: request.vote, conditions, comment, at });
    else await amendVote(tx, { proposalId: row.id, approver, conditions, comment, at });
    const after = [...votes.filter((vote) => vote.approver !== approver), { approver, vote: request.vote, conditions, comment, votedAt: at.toISOString(), amendedAt: null }];
    const tally = tallyOf(row, after);
    await appendEvent(tx, {
      type: "proposal.voted",
      proposalId: row.id,
      repoPath: row.repo_path,
      approver,
      vote: request.vote,
      conditions,
      amended: own !== undefined,
      approvals: tally.approvals,
      rejections: tally.rejections,
    });
    if (tally.code === "QUORUM_REACHED") {
      const { version, superseded } = await activateProposal(tx, row, at);
      await appendEvent(tx, { type: "proposal.activated", proposalId: row.id, repoPath: row.repo_path, kind: row.kind, version, superseded });
    } else if (tally.code === "QUORUM_UNREACHABLE") {
      await rejectProposal(tx, row.id, tally.reason, at);
      await appendEvent(tx, { type: "proposal.rejected", proposalId: row.id, repoPath: row.repo_path, kind: row.kind, reason: tally.reason });
    }
  }
}
