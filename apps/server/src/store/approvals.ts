/**
 * kodo.approvals: every ask of an agent the permission bridge answered, and how. A row is pending
 * while a person is asked, answered once someone (a person, the policy, the deadline) decided, and
 * expired when the OpenCode server that asked is gone. Writes that change what a person sees carry
 * their event (call them inside a transaction).
 */
import type { Pool, PoolClient } from "pg";
import type { Approval, ApprovalDecision, ApprovalKind, ApprovalQuestion, ApprovalStatus, ApprovalStatusFilter, PolicyVerdict } from "@kodo/contracts";
import { KodoError } from "../lib/errors.js";
import { appendEvent } from "./events.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

/** `answered_by` of answers kodo gave itself. */
export const POLICY_ACTOR = "kodo:policy";
export const DEADLINE_ACTOR = "kodo:deadline";
export const RESTART_ACTOR = "kodo:restart";
export const ORPHAN_ACTOR = "kodo:orphaned";

export interface ApprovalRow {
  id: string;
  run_id: string;
  task_id: string;
  session_id: string;
  kind: ApprovalKind;
  opencode_request_id: string;
  directory: string | null;
  permission: string | null;
  patterns: string[];
  metadata: Record<string, unknown>;
  questions: ApprovalQuestion[] | null;
  decided_by_policy: PolicyVerdict | null;
  status: ApprovalStatus;
  decision: ApprovalDecision | null;
  message: string | null;
  answered_by: string | null;
  server_instance: string;
  created_at: Date;
  deadline_at: Date;
  answered_at: Date | null;
  delivered_at: Date | null;
  delivery_error: string | null;
}

export function toApproval(row: ApprovalRow): Approval {
  return {
    id: row.id,
    runId: row.run_id,
    taskId: row.task_id,
    sessionId: row.session_id,
    kind: row.kind,
    requestId: row.opencode_request_id,
    permission: row.permission,
    patterns: row.patterns,
    metadata: row.metadata,
    questions: row.questions,
    decidedByPolicy: row.decided_by_policy,
    status: row.status,
    decision: row.decision,
    message: row.message,
    answeredBy: row.answered_by,
    serverInstance: row.server_instance,
    createdAt: row.created_at.toISOString(),
    deadlineAt: row.deadline_at.toISOString(),
    answeredAt: row.answered_at?.toISOString() ?? null,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    deliveryError: row.delivery_error,
  };
}

/** What the model is told when nobody answered in time. */
export function deadlineMessage(row: Pick<ApprovalRow, "created_at" | "deadline_at">): string {
  const seconds = Math.round((row.deadline_at.getTime() - row.created_at.getTime()) / 1000);
  return `nobody answered within ${seconds} s; denied — continue without it`;
}

export interface NewApproval {
  id: string;
  runId: string;
  taskId: string;
  sessionId: string;
  kind: ApprovalKind;
  requestId: string;
  directory: string | undefined;
  permission: string | null;
  patterns: readonly string[];
  metadata: Readonly<Record<string, unknown>>;
  questions: readonly ApprovalQuestion[] | null;
  decidedByPolicy: PolicyVerdict | null;
  serverInstance: string;
  at: Date;
  deadlineAt: Date;
}

const INSERT = `
  INSERT INTO kodo.approvals (id, run_id, task_id, session_id, kind, opencode_request_id, directory, permission, patterns, metadata,
                              questions, decided_by_policy, server_instance, created_at, deadline_at,
                              status, decision, message, answered_by, answered_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
  ON CONFLICT (server_instance, opencode_request_id) DO NOTHING
  RETURNING *`;

function insertParams(input: NewApproval, answer: { decision: ApprovalDecision; message: string | null; answeredBy: string } | undefined): unknown[] {
  return [
    input.id,
    input.runId,
    input.taskId,
    input.sessionId,
    input.kind,
    input.requestId,
    input.directory ?? null,
    input.permission,
    JSON.stringify(input.patterns),
    JSON.stringify(input.metadata),
    input.questions === null ? null : JSON.stringify(input.questions),
    input.decidedByPolicy === null ? null : JSON.stringify(input.decidedByPolicy),
    input.serverInstance,
    input.at,
    input.deadlineAt,
    answer === undefined ? "pending" : "answered",
    answer?.decision ?? null,
    answer?.message ?? null,
    answer?.answeredBy ?? null,
    answer === undefined ? null : input.at,
  ];
}

/**
 * A person is asked: the pending row and its `approval.requested` event. Returns undefined when this
 * ask (server instance + OpenCode request id) was recorded before.
 */
export async function insertPendingApproval(db: Queryable, input: NewApproval): Promise<ApprovalRow | undefined> {
  const result = await db.query<ApprovalRow>(INSERT, insertParams(input, undefined));
  const row = result.rows[0];
  if (row === undefined) return undefined;
  await appendEvent(db, {
    type: "approval.requested",
    taskId: row.task_id,
    runId: row.run_id,
    sessionId: row.session_id,
    approvalId: row.id,
    kind: row.kind,
    permission: row.permission,
    patterns: row.patterns,
    deadlineAt: row.deadline_at.toISOString(),
  });
  return row;
}

/** The policy answered by itself: the row is born answered (by `kodo:policy`), still to be delivered. */
export async function insertDecidedApproval(
  db: Queryable,
  input: NewApproval & { decision: ApprovalDecision; message: string | null },
): Promise<ApprovalRow | undefined> {
  const result = await db.query<ApprovalRow>(INSERT, insertParams(input, { decision: input.decision, message: input.message, answeredBy: POLICY_ACTOR }));
  return result.rows[0];
}

export async function findApproval(db: Queryable, id: string, forUpdate = false): Promise<ApprovalRow | undefined> {
  const result = await db.query<ApprovalRow>(`SELECT * FROM kodo.approvals WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`, [id]);
  return result.rows[0];
}

export async function findApprovalByRequest(db: Queryable, serverInstance: string, requestId: string): Promise<ApprovalRow | undefined> {
  const result = await db.query<ApprovalRow>(`SELECT * FROM kodo.approvals WHERE server_instance = $1 AND opencode_request_id = $2`, [serverInstance, requestId]);
  return result.rows[0];
}

/** Newest first; `pending` lists the oldest deadline first (what must be answered soonest). */
export async function listApprovals(db: Queryable, filter: { status: ApprovalStatusFilter; runId?: string; limit: number }): Promise<ApprovalRow[]> {
  const status = filter.status === "all" ? null : filter.status;
  const order = filter.status === "pending" ? "deadline_at, id" : "created_at DESC, id DESC";
  const result = await db.query<ApprovalRow>(
    `SELECT * FROM kodo.approvals WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR run_id = $2) ORDER BY ${order} LIMIT $3`,
    [status, filter.runId ?? null, filter.limit],
  );
  return result.rows;
}

async function appendAnswered(db: Queryable, row: ApprovalRow, flags: { byDeadline: boolean; expired: boolean }): Promise<void> {
  await appendEvent(db, {
    type: "approval.answered",
    taskId: row.task_id,
    runId: row.run_id,
    sessionId: row.session_id,
    approvalId: row.id,
    decision: row.decision ?? "reject",
    answeredBy: row.answered_by ?? "",
    byDeadline: flags.byDeadline,
    expired: flags.expired,
  });
}

export type AnswerResult =
  /** recorded now, or (recorded false) the same answer was already recorded: a safe retry */
  | { kind: "answered"; recorded: boolean; row: ApprovalRow }
  /** still pending but past its deadline: answered `reject` by the deadline now, the caller's answer refused */
  | { kind: "late"; row: ApprovalRow };

/**
 * A person's answer (call inside a transaction). Pending → answered with its event. The same
 * decision again by the same actor is idempotent; anything else after an answer, or on an expired
 * ask, is APPROVAL_NOT_PENDING. A question answered `once`/`always` needs the answer text.
 */
export async function answerApproval(
  db: Queryable,
  input: { id: string; decision: ApprovalDecision; message: string | undefined; answeredBy: string; at: Date },
): Promise<AnswerResult> {
  const row = await findApproval(db, input.id, true);
  if (row === undefined) throw new KodoError("NOT_FOUND", `approval ${input.id} not found`, { details: { approvalId: input.id } });
  if (row.status === "answered" && row.decision === input.decision && row.answered_by === input.answeredBy) {
    return { kind: "answered", recorded: false, row };
  }
  if (row.status !== "pending") {
    throw new KodoError("APPROVAL_NOT_PENDING", `approval ${row.id} is ${row.status}${row.decision === null ? "" : ` (${row.decision} by ${row.answered_by ?? "?"})`}, not pending`, {
      details: { approvalId: row.id, status: row.status, decision: row.decision, answeredBy: row.answered_by },
    });
  }
  if (row.deadline_at.getTime() <= input.at.getTime()) {
    return { kind: "late", row: await answerByDeadline(db, row, input.at) };
  }
  if (row.kind === "question" && input.decision !== "reject" && input.message === undefined) {
    throw new KodoError("VALIDATION_FAILED", `approval ${row.id} is a question: give the answer as message`, { details: { approvalId: row.id } });
  }
  // A refusal always carries a message: with one, OpenCode hands it to the model and the turn goes on.
  const message = input.message ?? (input.decision === "reject" ? `${input.answeredBy} rejected this; continue without it` : null);
  const updated = await db.query<ApprovalRow>(
    `UPDATE kodo.approvals SET status = 'answered', decision = $2, message = $3, answered_by = $4, answered_at = $5 WHERE id = $1 RETURNING *`,
    [row.id, input.decision, message, input.answeredBy, input.at],
  );
  const answered = updated.rows[0];
  if (answered === undefined) throw new KodoError("INTERNAL", `approval ${row.id} vanished inside its transaction`);
  await appendAnswered(db, answered, { byDeadline: false, expired: false });
  return { kind: "answered", recorded: true, row: answered };
}

async function answerByDeadline(db: Queryable, row: ApprovalRow, at: Date): Promise<ApprovalRow> {
  const updated = await db.query<ApprovalRow>(
    `UPDATE kodo.approvals SET status = 'answered', decision = 'reject', message = $2, answered_by = $3, answered_at = $4
      WHERE id = $1 AND status = 'pending' RETURNING *`,
    [row.id, deadlineMessage(row), DEADLINE_ACTOR, at],
  );
  const answered = updated.rows[0];
  if (answered === undefined) throw new KodoError("INTERNAL", `approval ${row.id} was not pending inside its transaction`);
  await appendAnswered(db, answered, { byDeadline: true, expired: false });
  return answered;
}

/** Pending asks of one server instance past their deadline → answered `reject` by the deadline (bounded). */
export async function rejectOverdueApprovals(db: Queryable, input: { serverInstance: string; now: Date; limit: number }): Promise<ApprovalRow[]> {
  const due = await db.query<ApprovalRow>(
    `SELECT * FROM kodo.approvals WHERE status = 'pending' AND server_instance = $1 AND deadline_at <= $2
      ORDER BY deadline_at LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [input.serverInstance, input.now, input.limit],
  );
  const answered: ApprovalRow[] = [];
  for (const row of due.rows) answered.push(await answerByDeadline(db, row, input.now));
  return answered;
}

const GONE = "not delivered: the OpenCode server that asked is gone";

/**
 * Asks whose OpenCode server is gone: pending ones become `expired` (decision reject, with their
 * event), answered-but-undelivered ones get a delivery error. `scope` picks them: the other server
 * instances of one owner (a restarted worker, a restarted OpenCode), or any instance's asks left
 * pending long past their deadline (their worker would have answered them at the deadline).
 */
export async function expireApprovals(
  db: Queryable,
  input: { scope: { owner: string; current: string } | { overdueBefore: Date; current: string }; now: Date; limit: number },
): Promise<ApprovalRow[]> {
  const { scope } = input;
  const byOwner = "owner" in scope;
  const where = byOwner ? `starts_with(server_instance, $1) AND server_instance <> $2` : `deadline_at < $1 AND server_instance <> $2`;
  const params: unknown[] = byOwner ? [`${scope.owner}#`, scope.current] : [scope.overdueBefore, scope.current];
  const actor = byOwner ? RESTART_ACTOR : ORPHAN_ACTOR;
  const message = byOwner
    ? "the OpenCode server that asked is gone (kodo or OpenCode restarted); the turn is run again"
    : "nobody delivered an answer by the deadline: the worker that asked is gone";
  const limit = `$${params.length + 1}`;
  const pending = await db.query<ApprovalRow>(
    `SELECT * FROM kodo.approvals WHERE status = 'pending' AND ${where} ORDER BY deadline_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    [...params, input.limit],
  );
  const expired: ApprovalRow[] = [];
  for (const row of pending.rows) {
    const updated = await db.query<ApprovalRow>(
      `UPDATE kodo.approvals SET status = 'expired', decision = 'reject', message = $2, answered_by = $3, answered_at = $4, delivery_error = $5
        WHERE id = $1 RETURNING *`,
      [row.id, message, actor, input.now, GONE],
    );
    const done = updated.rows[0];
    if (done === undefined) continue;
    await appendAnswered(db, done, { byDeadline: false, expired: true });
    expired.push(done);
  }
  await db.query(
    `UPDATE kodo.approvals SET delivery_error = $${params.length + 2}
      WHERE id IN (SELECT id FROM kodo.approvals
                    WHERE status = 'answered' AND delivered_at IS NULL AND delivery_error IS NULL AND ${where} LIMIT ${limit})`,
    [...params, input.limit, GONE],
  );
  return expired;
}

/** Answers of one server instance not yet handed to OpenCode, oldest first (bounded). */
export async function undeliveredApprovals(db: Queryable, serverInstance: string, limit: number): Promise<ApprovalRow[]> {
  const result = await db.query<ApprovalRow>(
    `SELECT * FROM kodo.approvals WHERE server_instance = $1 AND status = 'answered' AND delivered_at IS NULL AND delivery_error IS NULL
      ORDER BY answered_at, id LIMIT $2`,
    [serverInstance, limit],
  );
  return result.rows;
}

export async function markDelivered(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(`UPDATE kodo.approvals SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL`, [id, at]);
}

export async function markDeliveryFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`UPDATE kodo.approvals SET delivery_error = $2 WHERE id = $1 AND delivered_at IS NULL`, [id, error.slice(0, 2000)]);
}
