/**
 * The permission bridge: answers every `permission.asked` and `question.asked` of one OpenCode
 * server. A permission goes to `decide` (the policy): allow and deny are answered at once, ask goes
 * to a person — a pending row in kodo.approvals with a deadline. Questions always go to a person.
 *
 * The rows are the truth, so the API may run in another process: an answer written there reaches
 * this bridge through the event log (`answered()`, wired to the EventHub) and, as a safety net,
 * through a sweep every second that also rejects asks nobody answered by their deadline. Every
 * OpenCode call is bounded. At start (and when OpenCode restarts) the asks of the previous server
 * process are expired: their turn is re-run and the agent asks again.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import type { OpencodeClient } from "@opencode-ai/sdk/v2";
import type { Pool } from "pg";
import type { PolicyVerdict } from "@kodo/contracts";
import { withTransaction } from "../db/database.js";
import { describeError, isKodoError } from "../lib/errors.js";
import { newId, type Clock, type Random } from "../lib/ports.js";
import {
  expireApprovals,
  findApproval,
  findApprovalByRequest,
  insertDecidedApproval,
  insertPendingApproval,
  markDelivered,
  markDeliveryFailed,
  rejectOverdueApprovals,
  undeliveredApprovals,
  type ApprovalRow,
  type NewApproval,
} from "../store/approvals.js";
import type { AgentEvent } from "./event-types.js";
import type { AgentEventStream } from "./events.js";
import { TIMEOUT_HEADER } from "./http.js";
import { unwrap } from "./sdk-call.js";

/** One permission ask, as the policy sees it. */
export interface BridgeAsk {
  runId: string;
  taskId: string;
  sessionId: string;
  agent: "plan" | "build";
  permission: string;
  patterns: readonly string[];
  metadata: Readonly<Record<string, unknown>>;
  /** the session's directory (the run's worktree) */
  directory: string;
}

/** The policy's answer: a value with a stable code, a reason and the rules behind it. */
export interface BridgeDecision {
  action: "allow" | "deny" | "ask";
  code: string;
  reason: string;
  matchedRules: string[];
}

export type DecidePermission = (ask: BridgeAsk) => Promise<BridgeDecision>;

/** The default until a policy is plugged in: a person decides every ask. */
export const askEveryTime: DecidePermission = () =>
  Promise.resolve({ action: "ask", code: "ASK_A_PERSON", reason: "no policy decides permission asks here: a person does", matchedRules: [] });

/** What the bridge needs of the supervised OpenCode server. */
export interface BridgeServer {
  client(): OpencodeClient;
  readonly events: AgentEventStream;
  readonly pid: number;
  readonly stateDir: string;
  onRestart(listener: () => void): () => void;
}

export interface PermissionBridgeOptions {
  server: BridgeServer;
  pool: Pool;
  clock: Clock;
  random: Random;
  decide?: DecidePermission;
  /** how long a person has to answer, unless the task sets `approvalTimeoutSeconds` */
  timeoutSeconds: number;
  /** how often undelivered answers and deadlines are looked for (default 1 s) */
  sweepMs?: number;
  /** bound of every call to OpenCode (default 5 s) */
  callTimeoutMs?: number;
  /** a pending ask this long past its deadline is expired by any bridge: its own is gone (default 60 s) */
  orphanGraceMs?: number;
  log?: (line: string) => void;
}

const BATCH = 50;
const DELIVERY_ATTEMPTS = 3;
/** request ids remembered to drop repeats (the row in the database is the real guard) */
const SEEN_LIMIT = 10_000;
const UNKNOWN_SESSION_MESSAGE = "kodo does not know this session, so nobody can answer this request: it is denied. Continue without it.";
const ACTIVE_RUN = `r.status NOT IN ('Done', 'Failed', 'Rejected', 'Cancelled')`;

type AskEvent = Extract<AgentEvent, { type: "permission.asked" | "question.asked" }>;

interface SessionInfo {
  run_id: string;
  task_id: string;
  agent: string;
  directory: string;
  timeout: number | null;
}

export class PermissionBridge {
  /** identifies this worker's OpenCode server across processes: host and kodo home */
  readonly owner: string;
  readonly #options: PermissionBridgeOptions;
  readonly #decide: DecidePermission;
  readonly #token = randomUUID();
  readonly #log: (line: string) => void;
  /** OpenCode request id → session id, for asks waiting for a person or for their delivery */
  readonly #waiting = new Map<string, string>();
  readonly #seen = new Set<string>();
  readonly #delivering = new Set<string>();
  readonly #attempts = new Map<string, number>();
  readonly #unsubscribe: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  private constructor(options: PermissionBridgeOptions) {
    this.#options = options;
    this.#decide = options.decide ?? askEveryTime;
    this.#log = options.log ?? (() => undefined);
    this.owner = `${os.hostname()}:${path.resolve(options.server.stateDir)}`;
  }

  /** Expires the asks of this owner's previous server processes, then listens and sweeps. */
  static async start(options: PermissionBridgeOptions): Promise<PermissionBridge> {
    const bridge = new PermissionBridge(options);
    await bridge.#expirePrevious();
    const { server } = options;
    bridge.#unsubscribe.push(server.events.subscribe((event) => bridge.#onEvent(event)));
    bridge.#unsubscribe.push(
      server.onRestart(() => {
        // the asks of the old process died with it
        bridge.#waiting.clear();
        bridge.#seen.clear();
        void bridge.#expirePrevious().catch((error: unknown) => bridge.#log(`approvals: expiring after an OpenCode restart failed: ${describeError(error)}`));
      }),
    );
    bridge.#timer = setInterval(() => bridge.#kick(), options.sweepMs ?? 1_000);
    bridge.#timer.unref();
    bridge.#reconcile();
    return bridge;
  }

  /** The server instance asks are recorded under: changes with every OpenCode process. */
  get instance(): string {
    return `${this.owner}#${this.#token}:${this.#options.server.pid}`;
  }

  /** A person is being asked about one of this session's calls (or the answer is on its way). */
  hasPending(sessionId: string): boolean {
    for (const waiting of this.#waiting.values()) if (waiting === sessionId) return true;
    return false;
  }

  /** An answer was recorded somewhere (the event log said so): deliver now rather than at the next sweep. */
  answered(): void {
    this.#kick();
  }

  /** Runs a sweep now, or once more after the one under way; never two at once. */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#sweeping !== undefined) {
      this.#again = true;
      return;
    }
    this.#sweeping = (async () => {
      do {
        this.#again = false;
        await this.#sweep().catch((error: unknown) => this.#log(`approvals: sweep failed: ${describeError(error)}`));
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#sweeping = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    await this.#sweeping;
  }

  async #expirePrevious(): Promise<void> {
    const expired = await withTransaction(this.#options.pool, (client) =>
      expireApprovals(client, { scope: { owner: this.owner, current: this.instance }, now: this.#options.clock.now(), limit: 1_000 }),
    );
    if (expired.length > 0) this.#log(`approvals: expired ${expired.length} ask(s) of a previous OpenCode server`);
  }

  #onEvent(event: AgentEvent): void {
    if (event.type === "reconnected") this.#reconcile();
    if (event.type !== "permission.asked" && event.type !== "question.asked") return;
    void this.#handle(event).catch((error: unknown) => {
      // not recorded: the next reconcile (stream reconnect) may take it up again
      this.#seen.delete(event.id);
      this.#log(`approvals: ask ${event.id} of session ${event.sessionId} failed: ${describeError(error)}`);
    });
  }

  /** Asks OpenCode holds that the stream may not have shown us (it cannot be replayed after a drop). */
  #reconcile(): void {
    void (async () => {
      const dirs = await this.#options.pool.query<{ directory: string }>(
        `SELECT DISTINCT s.directory FROM kodo.sessions s JOIN kodo.runs r ON r.id = s.run_id WHERE ${ACTIVE_RUN} LIMIT 100`,
      );
      for (const { directory } of dirs.rows) {
        const permissions = await unwrap("GET /permission", this.#client().permission.list({ directory }, this.#bounded()));
        for (const ask of permissions) {
          this.#onEvent({ type: "permission.asked", directory, sessionId: ask.sessionID, id: ask.id, permission: ask.permission, patterns: ask.patterns, metadata: ask.metadata });
        }
        const questions = await unwrap("GET /question", this.#client().question.list({ directory }, this.#bounded()));
        for (const ask of questions) this.#onEvent({ type: "question.asked", directory, sessionId: ask.sessionID, id: ask.id, questions: ask.questions });
      }
    })().catch((error: unknown) => this.#log(`approvals: reconciling pending asks failed: ${describeError(error)}`));
  }

  async #handle(event: AskEvent): Promise<void> {
    if (this.#seen.has(event.id)) return;
    this.#seen.add(event.id);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value ?? "");
    // From here the turn waits on kodo (the policy, then maybe a person), not on the agent.
    this.#waiting.set(event.id, event.sessionId);
    let waiting = false;
    try {
      waiting = await this.#record(event);
    } finally {
      if (!waiting) this.#waiting.delete(event.id);
    }
  }

  /** Answers or records one ask; true while it still waits (for a person, or for its delivery). */
  async #record(event: AskEvent): Promise<boolean> {
    const { pool, clock, random } = this.#options;
    const existing = await findApprovalByRequest(pool, this.instance, event.id);
    if (existing !== undefined) return existing.status === "pending" || (existing.status === "answered" && existing.delivered_at === null && existing.delivery_error === null);
    const sessions = await pool.query<SessionInfo>(
      `SELECT s.run_id, r.task_id, s.agent, s.directory, (t.options->>'approvalTimeoutSeconds')::int AS timeout
         FROM kodo.sessions s JOIN kodo.runs r ON r.id = s.run_id JOIN kodo.tasks t ON t.id = r.task_id
        WHERE s.session_id = $1`,
      [event.sessionId],
    );
    const session = sessions.rows[0];
    if (session === undefined) {
      this.#log(`approvals: rejected ${event.type} ${event.id} of unknown session ${event.sessionId}`);
      await this.#reply(event.type === "permission.asked" ? "permission" : "question", event.id, event.directory, "reject", UNKNOWN_SESSION_MESSAGE, null);
      return false;
    }
    const at = clock.now();
    const timeoutSeconds = session.timeout ?? this.#options.timeoutSeconds;
    const base: Omit<NewApproval, "kind" | "permission" | "patterns" | "metadata" | "questions" | "decidedByPolicy"> = {
      id: newId("apr", clock, random),
      runId: session.run_id,
      taskId: session.task_id,
      sessionId: event.sessionId,
      requestId: event.id,
      directory: event.directory ?? session.directory,
      serverInstance: this.instance,
      at,
      deadlineAt: new Date(at.getTime() + timeoutSeconds * 1000),
    };
    if (event.type === "question.asked") {
      const row = await withTransaction(pool, (client) =>
        insertPendingApproval(client, { ...base, kind: "question", permission: null, patterns: [], metadata: {}, questions: event.questions, decidedByPolicy: null }),
      );
      return row !== undefined;
    }
    const ask: BridgeAsk = {
      runId: session.run_id,
      taskId: session.task_id,
      sessionId: event.sessionId,
      agent: session.agent === "plan" ? "plan" : "build",
      permission: event.permission,
      patterns: event.patterns,
      metadata: event.metadata,
      directory: session.directory,
    };
    const verdict = await this.#verdict(ask);
    const permission = { ...base, kind: "permission" as const, permission: event.permission, patterns: event.patterns, metadata: event.metadata, questions: null, decidedByPolicy: verdict };
    if (verdict.action === "ask") {
      const row = await withTransaction(pool, (client) => insertPendingApproval(client, permission));
      return row !== undefined;
    }
    const row = await insertDecidedApproval(pool, {
      ...permission,
      decision: verdict.action === "allow" ? "once" : "reject",
      message: verdict.action === "allow" ? null : `kodo policy denied this (${verdict.code}): ${verdict.reason}`,
    });
    return row === undefined ? false : !(await this.#deliver(row));
  }

  /** The policy's answer; a policy that fails denies (fail closed). */
  async #verdict(ask: BridgeAsk): Promise<PolicyVerdict> {
    try {
      const decision = await this.#decide(ask);
      return { action: decision.action, code: decision.code, reason: decision.reason, matchedRules: [...decision.matchedRules] };
    } catch (error) {
      return { action: "deny", code: "POLICY_ERROR", reason: `the policy could not decide: ${describeError(error)}`, matchedRules: [] };
    }
  }

  async #sweep(): Promise<void> {
    const { pool, clock } = this.#options;
    const now = clock.now();
    const overdue = await withTransaction(pool, (client) => rejectOverdueApprovals(client, { serverInstance: this.instance, now, limit: BATCH }));
    for (const row of overdue) this.#log(`approvals: ${row.id} rejected by its deadline (nobody answered)`);
    const orphanBefore = new Date(now.getTime() - (this.#options.orphanGraceMs ?? 60_000));
    await withTransaction(pool, (client) => expireApprovals(client, { scope: { overdueBefore: orphanBefore, current: this.instance }, now, limit: BATCH }));
    for (const row of await undeliveredApprovals(pool, this.instance, BATCH)) await this.#deliver(row);
  }

  /**
   * Hands an answer to OpenCode and records that it did (or why it could not). True once the
   * answer is settled (delivered, or given up on); false while it is still to be delivered.
   */
  async #deliver(row: ApprovalRow): Promise<boolean> {
    if (this.#delivering.has(row.id) || row.decision === null) return false;
    this.#delivering.add(row.id);
    const { pool, clock } = this.#options;
    try {
      const current = await findApproval(pool, row.id);
      if (current === undefined || current.delivered_at !== null || current.delivery_error !== null) return true;
      try {
        await this.#reply(row.kind, row.opencode_request_id, row.directory ?? undefined, row.decision, row.message, row.questions?.length ?? 0);
        await markDelivered(pool, row.id, clock.now());
        this.#settled(row);
        return true;
      } catch (error) {
        const attempts = (this.#attempts.get(row.id) ?? 0) + 1;
        this.#attempts.set(row.id, attempts);
        // a request OpenCode no longer knows cannot be answered later either
        const gone = isKodoError(error) && error.code === "NOT_FOUND";
        this.#log(`approvals: delivering ${row.id} to OpenCode failed (attempt ${attempts}): ${describeError(error)}`);
        if (!gone && attempts < DELIVERY_ATTEMPTS) return false;
        await markDeliveryFailed(pool, row.id, describeError(error));
        this.#settled(row);
        return true;
      }
    } finally {
      this.#delivering.delete(row.id);
    }
  }

  #settled(row: ApprovalRow): void {
    this.#waiting.delete(row.opencode_request_id);
    this.#attempts.delete(row.id);
  }

  async #reply(
    kind: "permission" | "question",
    requestID: string,
    directory: string | undefined,
    decision: "once" | "always" | "reject",
    message: string | null,
    questionCount: number | null,
  ): Promise<void> {
    const where = directory === undefined ? {} : { directory };
    if (kind === "permission") {
      await unwrap(
        `POST /permission/${requestID}/reply`,
        this.#client().permission.reply({ requestID, reply: decision, ...(message === null ? {} : { message }), ...where }, this.#bounded()),
      );
    } else if (decision === "reject" || message === null) {
      await unwrap(`POST /question/${requestID}/reject`, this.#client().question.reject({ requestID, ...where }, this.#bounded()));
    } else {
      // one answer per question: the person's text
      const answers = Array.from({ length: Math.max(1, questionCount ?? 1) }, () => [message]);
      await unwrap(`POST /question/${requestID}/reply`, this.#client().question.reply({ requestID, answers, ...where }, this.#bounded()));
    }
  }

  #client(): OpencodeClient {
    return this.#options.server.client();
  }

  #bounded(): { headers: Record<string, string> } {
    return { headers: { [TIMEOUT_HEADER]: String(this.#options.callTimeoutMs ?? 5_000) } };
  }
}
