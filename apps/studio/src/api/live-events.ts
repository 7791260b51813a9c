/**
 * The board's one connection to `GET /api/events`: fetch + a stream reader, so the bearer header is
 * sent. When the connection drops, ends, goes silent (kodo sends a heartbeat every 15 s) or cannot be
 * opened, it reconnects with `Last-Event-ID` after a pause that grows from 250 ms to 5 s, so the
 * server replays what happened meanwhile: no event is lost and none is applied twice.
 */
import { StoredEvent } from "@kodo/contracts";
import { SseParser } from "@kodo/contracts";

export type StreamState = "connecting" | "live" | "reconnecting" | "unauthorized";

type Listener = (event: StoredEvent) => void;

const IDLE_TIMEOUT_MS = 45_000;
const INITIAL_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

export class LiveEvents {
  readonly #headers: () => Record<string, string>;
  readonly #listeners = new Set<Listener>();
  readonly #stateListeners = new Set<() => void>();
  #state: StreamState = "connecting";
  /** the position to resume after: the last event applied, or the server's `ready` position */
  #lastEventId: number | undefined;
  #connection: AbortController | undefined;
  #stopped = false;
  #connections = 0;
  #ready: Promise<void>;
  #markReady: () => void = () => undefined;
  /** ids of every event delivered to listeners, for the browser tests' hook */
  readonly delivered: number[] = [];

  constructor(headers: () => Record<string, string>) {
    this.#headers = headers;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  get state(): StreamState {
    return this.#state;
  }

  get connections(): number {
    return this.#connections;
  }

  /** Resolves once the first connection is open: what is loaded after it cannot miss an event. */
  ready(): Promise<void> {
    return this.#ready;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onState(listener: () => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#connection?.abort();
  }

  /** Cuts the current connection as a network failure would (the reader reconnects). */
  drop(): void {
    this.#connection?.abort(new Error("dropped"));
  }

  #setState(state: StreamState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener();
  }

  async #run(): Promise<void> {
    let failures = 0;
    let retryMs: number | undefined;
    while (!this.#stopped) {
      const outcome = await this.#connect();
      if (this.#stopped) return;
      if (outcome.kind === "unauthorized") {
        this.#setState("unauthorized");
        return;
      }
      if (outcome.retryMs !== undefined) retryMs = outcome.retryMs;
      failures = outcome.gotEvent ? 1 : failures + 1;
      this.#setState("reconnecting");
      const delay = Math.min(MAX_BACKOFF_MS, (retryMs ?? INITIAL_BACKOFF_MS) * 2 ** Math.max(0, failures - 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async #connect(): Promise<{ kind: "ended"; gotEvent: boolean; retryMs: number | undefined } | { kind: "unauthorized" }> {
    const controller = new AbortController();
    this.#connection = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error("the event stream went silent")), IDLE_TIMEOUT_MS);
    };
    const parser = new SseParser();
    let gotEvent = false;
    try {
      arm();
      const response = await fetch("/api/events", {
        headers: {
          ...this.#headers(),
          accept: "text/event-stream",
          ...(this.#lastEventId === undefined ? {} : { "last-event-id": String(this.#lastEventId) }),
        },
        credentials: "omit",
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401) return { kind: "unauthorized" };
      if (!response.ok || response.body === null) return { kind: "ended", gotEvent, retryMs: parser.retryMs };
      this.#connections += 1;
      this.#setState("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        for (const frame of parser.push(value)) {
          if (frame.event === "ready" && frame.id === undefined) {
            this.#onReady(frame.data);
            continue;
          }
          if (frame.id !== undefined && this.#deliver(frame.id, frame.data)) gotEvent = true;
        }
      }
    } catch {
      // aborted, dropped or refused: reconnect below
    } finally {
      clearTimeout(idle);
      controller.abort();
    }
    return { kind: "ended", gotEvent, retryMs: parser.retryMs };
  }

  /** kodo's `ready` frame: where the stream starts, so a drop before the first event resumes there. */
  #onReady(data: string): void {
    try {
      const position = (JSON.parse(data) as { lastEventId?: unknown }).lastEventId;
      if (this.#lastEventId === undefined && typeof position === "number") this.#lastEventId = position;
    } catch {
      // not kodo's ready frame
    }
    this.#markReady();
  }

  #deliver(frameId: string, data: string): boolean {
    const id = Number(frameId);
    if (!Number.isInteger(id) || (this.#lastEventId !== undefined && id <= this.#lastEventId)) return false;
    // the position moves even past an event this board cannot read (a newer server's type)
    this.#lastEventId = id;
    let parsed: ReturnType<typeof StoredEvent.safeParse>;
    try {
      parsed = StoredEvent.safeParse(JSON.parse(data));
    } catch {
      return false;
    }
    if (!parsed.success) return false;
    const stored = parsed.data;
    this.delivered.push(stored.id);
    if (this.delivered.length > 5000) this.delivered.splice(0, 1000);
    for (const listener of this.#listeners) {
      try {
        listener(stored);
      } catch (error) {
        console.error("kodo studio: an event handler failed", error);
      }
    }
    return true;
  }
}
