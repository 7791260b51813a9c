/**
 * A Server-Sent Events reader that does not lose events: it parses the stream as the HTML spec
 * says, remembers the last `id:`, and when the connection drops, goes quiet or cannot be opened,
 * reconnects with `Last-Event-ID` after a bounded, growing pause. Nothing in here knows kodo's
 * event shapes, so the web board can use it as it is.
 *
 *   for await (const item of readEventStream({ url, signal })) {
 *     if (item.type === "frame") handle(item.frame);
 *   }
 */
import { sleep } from "./io.js";

export interface SseFrame {
  /** this frame's own `id:` field; undefined when it had none */
  id: string | undefined;
  /** the stream's last event id once this frame was dispatched (what a reconnect sends) */
  lastEventId: string | undefined;
  /** `event:` field; "message" when absent */
  event: string;
  data: string;
}

/** Incremental SSE parser: feed it decoded text in any chunking, get whole frames back. */
export class SseParser {
  #buffer = "";
  #data: string[] = [];
  #event = "";
  #frameId: string | undefined;
  /** the spec's "last event ID buffer": becomes `lastEventId` only when its frame is complete */
  #idBuffer: string | undefined;
  /** the id of the last complete frame that had one (persists across frames, as the spec says) */
  lastEventId: string | undefined;
  /** the last valid `retry:` field, in milliseconds */
  retryMs: number | undefined;

  readonly #resumeFrom: ((frame: SseFrame) => string | undefined) | undefined;

  constructor(options: { lastEventId?: string | undefined; resumeFrom?: ((frame: SseFrame) => string | undefined) | undefined } = {}) {
    this.lastEventId = options.lastEventId;
    this.#idBuffer = options.lastEventId;
    this.#resumeFrom = options.resumeFrom;
  }

  push(text: string): SseFrame[] {
    const frames: SseFrame[] = [];
    const buffer = this.#buffer + text;
    let start = 0;
    for (let index = 0; index < buffer.length; index += 1) {
      const char = buffer[index];
      if (char !== "\n" && char !== "\r") continue;
      // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
      if (char === "\r" && index + 1 === buffer.length) break;
      const line = buffer.slice(start, index);
      if (char === "\r" && buffer[index + 1] === "\n") index += 1;
      start = index + 1;
      this.#line(line, frames);
    }
    this.#buffer = buffer.slice(start);
    return frames;
  }

  #line(line: string, frames: SseFrame[]): void {
    if (line === "") {
      this.#dispatch(frames);
      return;
    }
    if (line.startsWith(":")) return; // comment, e.g. ": heartbeat"
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\u0000")) {
          this.#idBuffer = value;
          this.#frameId = value;
        }
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(frames: SseFrame[]): void {
    const data = this.#data;
    const event = this.#event;
    const id = this.#frameId;
    this.#data = [];
    this.#event = "";
    this.#frameId = undefined;
    // Only a complete frame moves the position: a connection that dies mid-frame resumes before it.
    this.lastEventId = this.#idBuffer;
    if (data.length === 0) return;
    const frame: SseFrame = { id, lastEventId: this.lastEventId, event: event === "" ? "message" : event, data: data.join("\n") };
    const resumed = id === undefined ? this.#resumeFrom?.(frame) : undefined;
    if (resumed !== undefined) {
      this.lastEventId = resumed;
      this.#idBuffer = resumed;
      frame.lastEventId = resumed;
    }
    frames.push(frame);
  }
}

/** The server answered the stream request with an error status. */
export class SseHttpError extends Error {
  readonly status: number;
  readonly body: string;

  constructor(status: number, body: string) {
    super(`the event stream answered HTTP ${status}`);
    this.name = "SseHttpError";
    this.status = status;
    this.body = body;
  }
}

/** No answer or no bytes for too long. */
export class SseTimeoutError extends Error {
  constructor(what: "connect" | "idle", ms: number) {
    super(what === "connect" ? `no answer within ${ms} ms` : `the event stream was silent for ${ms} ms`);
    this.name = "SseTimeoutError";
  }
}

export type SseItem =
  /** a connection is open (1 for the first one, 2 after the first reconnect, …) */
  | { type: "open"; connection: number }
  | { type: "frame"; frame: SseFrame }
  /** the connection is gone; the reader waits `delayMs`, then tries again */
  | { type: "reconnecting"; attempt: number; delayMs: number; error: unknown };

export interface SseReaderOptions {
  url: string;
  headers?: Record<string, string>;
  /** resume after this id (sent as `Last-Event-ID` on the first connection too) */
  lastEventId?: string;
  /** ends the stream cleanly: the generator returns, it does not throw */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** until the response headers arrive; default 10 s */
  connectTimeoutMs?: number;
  /** no bytes for this long → reconnect; default 45 s (kodo sends a heartbeat every 15 s) */
  idleTimeoutMs?: number;
  /** first pause before a reconnect; doubles per failed attempt; default 250 ms (a server `retry:` wins) */
  initialBackoffMs?: number;
  /** the longest pause; default 5 s */
  maxBackoffMs?: number;
  /** consecutive attempts that get no event before the reader gives up and throws; default 10 */
  maxAttempts?: number;
  /**
   * For servers that announce their position in a frame without `id:` (kodo's `ready`): return
   * the id to resume from after that frame, or undefined. Without it, a connection that drops
   * before its first event would reconnect with no `Last-Event-ID` and could miss events.
   */
  resumeFrom?: (frame: SseFrame) => string | undefined;
}

/** Statuses worth retrying; any other 4xx is an answer, not an outage. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Reads an SSE endpoint for as long as the caller iterates, reconnecting as needed. Throws
 * `SseHttpError` on a non-retryable status, or the last error after `maxAttempts` consecutive
 * failures; returns when `signal` aborts or the caller stops iterating.
 */
export async function* readEventStream(options: SseReaderOptions): AsyncGenerator<SseItem, void, undefined> {
  const fetchImpl = options.fetch ?? fetch;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let retryMs: number | undefined;
  let failures = 0;
  let connections = 0;
  const aborted = (): boolean => signal?.aborted === true;

  while (!aborted()) {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = (what: "connect" | "idle", ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(new SseTimeoutError(what, ms)), ms);
    };
    let gotFrame = false;
    let error: unknown;
    try {
      arm("connect", connectTimeoutMs);
      const response = await fetchImpl(options.url, {
        headers: {
          accept: "text/event-stream",
          "cache-control": "no-cache",
          ...options.headers,
          ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId }),
        },
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) {
        const body = await response.text().catch(() => "");
        throw new SseHttpError(response.status, body);
      }
      connections += 1;
      arm("idle", idleTimeoutMs);
      yield { type: "open", connection: connections };
      const parser = new SseParser({ lastEventId, resumeFrom: options.resumeFrom });
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        arm("idle", idleTimeoutMs);
        for (const frame of parser.push(decoder.decode(chunk, { stream: true }))) {
          gotFrame = true;
          failures = 0;
          lastEventId = frame.lastEventId;
          yield { type: "frame", frame };
        }
        lastEventId = parser.lastEventId; // an id-only block moves it too
        if (parser.retryMs !== undefined) retryMs = parser.retryMs;
      }
      error = new Error("the server ended the event stream");
    } catch (caught) {
      error = caught;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      controller.abort();
    }
    if (aborted()) return;
    if (error instanceof SseHttpError && !isRetryableStatus(error.status)) throw error;
    if (!gotFrame) failures += 1;
    if (failures >= maxAttempts) throw error;
    const base = retryMs ?? initialBackoffMs;
    const delayMs = Math.min(maxBackoffMs, base * 2 ** Math.max(0, failures - 1));
    yield { type: "reconnecting", attempt: failures + 1, delayMs, error };
    if (!(await sleep(delayMs, signal))) return;
  }
}
