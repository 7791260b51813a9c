import pg from "pg";
import type { Pool } from "pg";
import type { StoredEvent } from "@kodo/contracts";
import { EVENTS_CHANNEL, eventsAfter, latestEventId } from "../store/events.js";

type Listener = (event: StoredEvent) => void;

/**
 * One LISTEN connection per process fans kodo's event log out to subscribers (SSE clients, the
 * worker's cancel watcher). Events are read from the table, so the stream and the DB never disagree,
 * and a subscriber that resumes after id N gets exactly the events after N.
 */
export class EventHub {
  readonly #pool: Pool;
  readonly #url: string;
  readonly #listeners = new Set<Listener>();
  #client: pg.Client | undefined;
  #lastId = 0;
  #draining: Promise<void> = Promise.resolve();
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;

  constructor(pool: Pool, url: string) {
    this.#pool = pool;
    this.#url = url;
  }

  async start(): Promise<void> {
    this.#lastId = await latestEventId(this.#pool);
    await this.#connect();
    // A safety net for a notification lost while reconnecting: look every few seconds anyway.
    this.#pollTimer = setInterval(() => this.#drain(), 2000);
    this.#pollTimer.unref();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 5000 });
    client.on("error", () => this.#scheduleReconnect());
    client.on("end", () => this.#scheduleReconnect());
    client.on("notification", () => this.#drain());
    await client.connect();
    await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    this.#client = client;
    this.#drain();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    this.#client = undefined;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#connect().catch(() => this.#scheduleReconnect());
    }, 500);
    this.#reconnectTimer.unref();
  }

  #drain(): void {
    this.#draining = this.#draining.then(async () => {
      if (this.#closed || this.#listeners.size === 0) {
        if (!this.#closed) this.#lastId = await latestEventId(this.#pool).catch(() => this.#lastId);
        return;
      }
      for (;;) {
        const batch = await eventsAfter(this.#pool, this.#lastId, { limit: 500 }).catch(() => []);
        for (const event of batch) {
          this.#lastId = event.id;
          for (const listener of this.#listeners) listener(event);
        }
        if (batch.length < 500) return;
      }
    });
  }

  /** Current end of the log: a new subscriber without a resume point starts here. */
  get lastId(): number {
    return this.#lastId;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#listeners.clear();
    await client?.end().catch(() => undefined);
  }
}
