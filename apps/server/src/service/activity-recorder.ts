import type { Pool } from "pg";
import type { AgentEvent } from "../agent/event-types.js";
import type { SessionMessage } from "../agent/session-messages.js";
import { upsertActivity } from "../store/activity.js";
import { withTransaction } from "../db/database.js";

interface SessionOwner {
  runId: string | null;
  taskId: string | null;
}

/**
 * Turns the OpenCode event stream into the session activity store: one row per message and per
 * part, upserted by id (OpenCode repeats updates), each change also published as an event.
 * Writes are applied in arrival order; streaming deltas are not stored (the final part is).
 */
export class ActivityRecorder {
  readonly #pool: Pool;
  readonly #owners = new Map<string, SessionOwner>();
  #chain: Promise<void> = Promise.resolve();
  #failures = 0;
  #messages: MessagesReader | undefined;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /** Where to read a session back from after the event stream reconnects (the runtime, once it exists). */
  reconcileWith(messages: MessagesReader): void {
    this.#messages = messages;
  }

  get failures(): number {
    return this.#failures;
  }

  /** Resolves when everything received so far is written. */
  flush(): Promise<void> {
    return this.#chain;
  }

  record(event: AgentEvent): void {
    if (event.type === "reconnected") {
      this.#enqueue(() => this.#reconcile());
      return;
    }
    const item = toItem(event);
    if (item === undefined) return;
    this.#enqueue(() => this.#write(item));
  }

  #enqueue(work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch(() => {
      this.#failures += 1;
    });
  }

  async #write(item: Item): Promise<void> {
    const owner = await this.#ownerOf(item.sessionId);
    await withTransaction(this.#pool, (tx) => upsertActivity(tx, { ...item, ...owner }));
  }

  /**
   * OpenCode's stream cannot be resumed, so after a reconnect the sessions of active runs are read
   * back from their messages; the upsert makes this a no-op for what was already recorded.
   */
  async #reconcile(): Promise<void> {
    const read = this.#messages;
    if (read === undefined) return;
    const sessions = await this.#pool.query<{ session_id: string; directory: string }>(
      `SELECT s.session_id, s.directory FROM kodo.sessions s JOIN kodo.runs r ON r.id = s.run_id
        WHERE r.status NOT IN ('Done', 'Failed', 'Rejected', 'Cancelled')`,
    );
    for (const session of sessions.rows) {
      for (const message of await read(session.session_id, session.directory)) {
        await this.#write({
          sessionId: session.session_id,
          itemId: message.id,
          messageId: message.id,
          kind: "message",
          data: { role: message.role, completed: message.completed, finish: message.finish ?? null, error: message.error ?? null },
        });
      }
    }
  }

  async #ownerOf(sessionId: string): Promise<SessionOwner> {
    const known = this.#owners.get(sessionId);
    if (known !== undefined) return known;
    const result = await this.#pool.query<{ run_id: string; task_id: string }>(
      `SELECT s.run_id, r.task_id FROM kodo.sessions s JOIN kodo.runs r ON r.id = s.run_id WHERE s.session_id = $1`,
      [sessionId],
    );
    const row = result.rows[0];
    if (row === undefined) return { runId: null, taskId: null };
    const owner = { runId: row.run_id, taskId: row.task_id };
    this.#owners.set(sessionId, owner);
    return owner;
  }
}

type MessagesReader = (sessionId: string, directory: string) => Promise<SessionMessage[]>;

type Item = { sessionId: string; itemId: string; messageId: string | null; kind: string; data: Record<string, unknown> };

function toItem(event: AgentEvent): Item | undefined {
  switch (event.type) {
    case "message.updated":
      return {
        sessionId: event.sessionId,
        itemId: event.messageId,
        messageId: event.messageId,
        kind: "message",
        data: { role: event.role, completed: event.completed, finish: event.finish ?? null, error: event.error ?? null },
      };
    case "part.updated":
      if (event.partType === "step-start" || event.partType === "step-finish") return undefined;
      return {
        sessionId: event.sessionId,
        itemId: event.partId,
        messageId: event.messageId,
        kind: event.partType,
        data: { text: event.text ?? null, tool: event.tool ?? null, state: event.state ?? null },
      };
    case "permission.asked":
      return {
        sessionId: event.sessionId,
        itemId: event.id,
        messageId: null,
        kind: "permission",
        data: { permission: event.permission, patterns: event.patterns },
      };
    case "session.error":
      if (event.sessionId === undefined) return undefined;
      return {
        sessionId: event.sessionId,
        itemId: `error:${event.error?.name ?? "unknown"}`,
        messageId: null,
        kind: "error",
        data: { name: event.error?.name ?? null, message: event.error?.message ?? null },
      };
    default:
      return undefined;
  }
}
