import type { Pool } from "pg";
import type { AnswerApprovalRequest, Approval, ApprovalStatusFilter } from "@kodo/contracts";
import { withTransaction } from "../db/database.js";
import { KodoError } from "../lib/errors.js";
import type { Clock } from "../lib/ports.js";
import { answerApproval, findApproval, listApprovals, toApproval } from "../store/approvals.js";

/**
 * What a person can do with the agents' asks: list them, read one, answer it. The answer is one
 * transaction (row and `approval.answered` event); the worker whose OpenCode asked delivers it.
 */
export class ApprovalService {
  readonly #pool: Pool;
  readonly #clock: Clock;

  constructor(deps: { pool: Pool; clock: Clock }) {
    this.#pool = deps.pool;
    this.#clock = deps.clock;
  }

  async list(filter: { status?: ApprovalStatusFilter; runId?: string; limit?: number } = {}): Promise<Approval[]> {
    const rows = await listApprovals(this.#pool, {
      status: filter.status ?? "pending",
      ...(filter.runId === undefined ? {} : { runId: filter.runId }),
      limit: filter.limit ?? 200,
    });
    return rows.map(toApproval);
  }

  async get(id: string): Promise<Approval> {
    const row = await findApproval(this.#pool, id);
    if (row === undefined) throw new KodoError("NOT_FOUND", `approval ${id} not found`, { details: { approvalId: id } });
    return toApproval(row);
  }

  /**
   * Pending → answered. The same answer again is a safe retry (200); another answer after it was
   * answered, an expired ask, or one past its deadline (which this call then rejects in the
   * deadline's name) is APPROVAL_NOT_PENDING.
   */
  async answer(id: string, request: AnswerApprovalRequest, answeredBy: string): Promise<Approval> {
    const result = await withTransaction(this.#pool, (client) =>
      answerApproval(client, { id, decision: request.decision, message: request.message, answeredBy, at: this.#clock.now() }),
    );
    if (result.kind === "late") {
      throw new KodoError("APPROVAL_NOT_PENDING", `approval ${id} passed its deadline (${result.row.deadline_at.toISOString()}) and was rejected`, {
        details: { approvalId: id, status: result.row.status, decision: result.row.decision, answeredBy: result.row.answered_by },
      });
    }
    return toApproval(result.row);
  }
}
