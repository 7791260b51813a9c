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
import { SseParser, type SseFrame } from "@kodo/contracts";
import { sleep } from "./io.js";

export { SseParser, type SseFrame };

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
