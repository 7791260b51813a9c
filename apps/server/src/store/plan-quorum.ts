/**
 * Plan approval under a plan quorum: when a repository's governance has `planQuorum`, approving
 * or rejecting a plan is a vote; the plan decision (plan-approvals.ts) is recorded only once the
 * quorum is reached or can no longer be. The rules are copied to the run at its first vote.
 */
import type { Pool, PoolClient } from "pg";
import type { PlanQuorumStatus, PlanVote, VoteChoice } from "@kodo/contracts";
import { tallyQuorum } from "../domain/quorum.js";
import { KodoError } from "../lib/errors.js";
import { appendEvent } from "./events.js";
import { findGovernance } from "./governance.js";
import { findPlanDecision } from "./plan-approvals.js";
import type { RunRow } from "./runs.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

interface ReviewRow {
  run_id: string;
  approvers: string[];
  required: number;
}

interface PlanVoteRow {
  approver: string;
  vote: VoteChoice;
  comment: string | null;
  voted_at: Date;
}

/** What the quorum decided, to record as the plan decision; null while it waits for votes. */
export interface QuorumDecision {
  decision: "approved" | "rejected";
  reason: string | null;
  decidedBy: string;
}

async function findReview(db: Queryable, runId: string): Promise<ReviewRow | undefined> {
  const result = await db.query<ReviewRow>(`SELECT run_id, approvers, required FROM kodo.plan_quorum_reviews WHERE run_id = $1`, [runId]);
  return result.rows[0];
}

async function planVotes(db: Queryable, runId: string): Promise<PlanVote[]> {
  const result = await db.query<PlanVoteRow>(`SELECT approver, vote, comment, voted_at FROM kodo.plan_quorum_votes WHERE run_id = $1 ORDER BY voted_at, approver`, [runId]);
  return result.rows.map((row) => ({ approver: row.approver, vote: row.vote, comment: row.comment, votedAt: row.voted_at.toISOString() }));
}

function statusOf(review: ReviewRow, votes: PlanVote[], decision: "approved" | "rejected" | null): PlanQuorumStatus {
  return { runId: review.run_id, approvers: review.approvers, required: review.required, votes, tally: tallyQuorum(review, votes), decision };
}

/** The plan quorum of a run, if its plan is (or was) decided by one. */
export async function planQuorumStatus(db: Queryable, runId: string): Promise<PlanQuorumStatus | undefined> {
  const review = await findReview(db, runId);
  if (review === undefined) return undefined;
  const decision = await findPlanDecision(db, runId);
  return statusOf(review, await planVotes(db, runId), decision?.kind ?? null);
}

function decisionOf(status: PlanQuorumStatus): QuorumDecision | null {
  const approvers = (vote: VoteChoice) => status.votes.filter((entry) => entry.vote === vote);
  if (status.tally.code === "QUORUM_REACHED") {
    const comments = approvers("approve").flatMap((vote) => (vote.comment === null ? [] : [`${vote.approver}: ${vote.comment}`]));
    return { decision: "approved", reason: comments.length === 0 ? null : comments.join("; "), decidedBy: `quorum of ${approvers("approve").map((vote) => vote.approver).join(", ")}` };
  }
  if (status.tally.code === "QUORUM_UNREACHABLE") {
    const reasons = approvers("reject").map((vote) => `${vote.approver}: ${vote.comment ?? "rejected"}`);
    return { decision: "rejected", reason: `${status.tally.reason} (${reasons.join("; ")})`, decidedBy: `quorum of ${approvers("reject").map((vote) => vote.approver).join(", ")}` };
  }
  return null;
}

/**
 * Records `approver`'s vote on the plan of `run` (locked by the caller, in its transaction).
 * Returns undefined when the run's repository has no plan quorum (the single-approver path
 * applies). Otherwise: not a listed approver → FORBIDDEN; a changed vote → VOTE_CONFLICT; the same
 * vote again → nothing new. `decision` is what to record as the plan decision, once the quorum
 * is reached or unreachable (or, after the decision, what this voter asks for, so the usual
 * idempotent-or-CONFLICT rule of plan decisions answers).
 */
export async function recordPlanVote(
  db: Queryable,
  input: { run: RunRow; approver: string; vote: VoteChoice; comment: string | null; at: Date },
): Promise<{ status: PlanQuorumStatus; decision: QuorumDecision | null } | undefined> {
  const { run } = input;
  let review = await findReview(db, run.id);
  if (review === undefined) {
    const task = await db.query<{ repo_path: string }>(`SELECT repo_path FROM kodo.tasks WHERE id = $1`, [run.task_id]);
    const repoPath = task.rows[0]?.repo_path;
    const quorum = repoPath === undefined ? null : ((await findGovernance(db, repoPath))?.planQuorum ?? null);
    if (quorum === null) return undefined;
    if (run.status !== "PlanningReview" || (await findPlanDecision(db, run.id)) !== undefined) return undefined; // decided before the quorum existed
    review = { run_id: run.id, approvers: quorum.approvers, required: quorum.required };
    await db.query(`INSERT INTO kodo.plan_quorum_reviews (run_id, approvers, required, created_at) VALUES ($1, $2, $3, $4)`, [
      run.id,
      quorum.approvers,
      quorum.required,
      input.at,
    ]);
  }
  if (!review.approvers.includes(input.approver)) {
    throw new KodoError("FORBIDDEN", `${input.approver} is not an approver of this plan (approvers: ${review.approvers.join(", ")})`, {
      details: { runId: run.id, approver: input.approver, approvers: review.approvers },
    });
  }
  if (run.status !== "PlanningReview") {
    throw new KodoError("RUN_NOT_WAITING", `run ${run.id} is ${run.status}, not waiting for a plan decision`, { details: { runId: run.id, status: run.status } });
  }
  const votes = await planVotes(db, run.id);
  const own = votes.find((vote) => vote.approver === input.approver);
  if (own !== undefined && own.vote !== input.vote) {
    throw new KodoError("VOTE_CONFLICT", `${input.approver} already voted ${own.vote} on the plan of run ${run.id}; a vote cannot be changed`, {
      details: { runId: run.id, approver: input.approver, vote: own.vote },
    });
  }
  const decided = await findPlanDecision(db, run.id);
  if (decided !== undefined) {
    // The quorum already decided; the workflow has not picked it up yet.
    return {
      status: statusOf(review, votes, decided.kind),
      decision: { decision: input.vote === "approve" ? "approved" : "rejected", reason: input.comment, decidedBy: input.approver },
    };
  }
  if (own !== undefined) return { status: statusOf(review, votes, null), decision: null };
  await db.query(`INSERT INTO kodo.plan_quorum_votes (run_id, approver, vote, comment, voted_at) VALUES ($1, $2, $3, $4, $5)`, [
    run.id,
    input.approver,
    input.vote,
    input.comment,
    input.at,
  ]);
  const after = [...votes, { approver: input.approver, vote: input.vote, comment: input.comment, votedAt: input.at.toISOString() }];
  const status = statusOf(review, after, null);
  await appendEvent(db, {
    type: "plan.vote_recorded",
    taskId: run.task_id,
    runId: run.id,
    approver: input.approver,
    vote: input.vote,
    approvals: status.tally.approvals,
    rejections: status.tally.rejections,
    required: status.required,
  });
  const decision = decisionOf(status);
  return { status: decision === null ? status : { ...status, decision: decision.decision }, decision };
}
