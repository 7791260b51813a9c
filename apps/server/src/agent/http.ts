import { Agent, fetch as undiciFetch } from "undici";
import { KodoError, describeError } from "../lib/errors.js";

/**
 * A request may carry this header to choose its own overall timeout in ms, or `none` for a stream
 * that is bounded some other way (the event stream's idle watchdog). It is not sent.
 */
export const TIMEOUT_HEADER = "x-kodo-timeout-ms";
export const NO_TIMEOUT = "none";
/** setTimeout's ceiling; larger values would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export interface HttpTimeouts {
  /** TCP connect bound for every request */
  connectMs: number;
  /** overall bound (headers and body) unless the request sets TIMEOUT_HEADER */
  requestMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { connectMs: 5_000, requestMs: 30_000 };

/**
 * fetch for one OpenCode server: HTTP Basic auth, a connect timeout (undici dispatcher) and an
 * overall timeout on every request, including reading the body. No request can hang forever.
 */
export interface TimedFetch {
  fetch: typeof fetch;
  /** the Authorization header value (for callers that build their own requests) */
  authorization: string;
  close(): Promise<void>;
}

/**
 * One signal for the request: aborted by any caller signal or by the timeout. Built with plain
 * listeners on purpose: a `new Request(…)`'s own signal follows the caller's only through a weak
 * reference, and once that Request was garbage-collected an abort no longer reached a long-lived
 * stream (seen: the event stream could not be stopped). The timer is unref'd; firing after the
 * response was consumed is a no-op.
 */
function requestSignal(sources: readonly (AbortSignal | null | undefined)[], timeoutMs: number | undefined): AbortSignal {
  const controller = new AbortController();
  for (const source of sources) {
    if (source === null || source === undefined) continue;
    if (source.aborted) controller.abort(source.reason);
    else source.addEventListener("abort", () => controller.abort(source.reason), { once: true });
  }
  if (timeoutMs !== undefined && !controller.signal.aborted) {
    setTimeout(() => controller.abort(new DOMException("The operation timed out.", "TimeoutError")), timeoutMs).unref();
  }
  return controller.signal;
}

export function basicAuthorization(password: string): string {
  return `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
}

export function createTimedFetch(password: string, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): TimedFetch {
  // headers/body timeouts are off in the dispatcher: the blocking prompt call legitimately waits
  // for minutes. The overall AbortSignal below is what bounds every request.
  const dispatcher = new Agent({ connect: { timeout: timeouts.connectMs }, headersTimeout: 0, bodyTimeout: 0 });
  const authorization = basicAuthorization(password);

  const timedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    const raw = headers.get(TIMEOUT_HEADER);
    headers.delete(TIMEOUT_HEADER);
    headers.set("authorization", authorization);
    const override = Number(raw);
    const timeoutMs = raw === NO_TIMEOUT ? undefined : Number.isFinite(override) && override > 0 ? Math.min(override, MAX_TIMER_MS) : timeouts.requestMs;
    const signal = requestSignal([init?.signal, input instanceof Request ? input.signal : undefined], timeoutMs);
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const what = `${request.method} ${new URL(request.url).pathname}`;
    try {
      // undici's own fetch, so the dispatcher (connect timeout) and fetch are one version
      const response = await undiciFetch(request.url, {
        method: request.method,
        headers: [...headers],
        signal,
        redirect: "manual",
        ...(body === undefined ? {} : { body }),
        dispatcher,
      });
      return response as Response;
    } catch (error) {
      throw httpError(error, what, timeoutMs);
    }
  };
  return {
    fetch: timedFetch as typeof fetch,
    authorization,
    close: async () => {
      await dispatcher.destroy().catch(() => undefined);
    },
  };
}

/** Maps a fetch failure to a KodoError; passes KodoErrors and caller aborts through. */
export function httpError(error: unknown, what: string, timeoutMs?: number): unknown {
  if (error instanceof KodoError) return error;
  if (error instanceof DOMException && error.name === "TimeoutError") {
    const bound = timeoutMs === undefined ? "its timeout" : `${timeoutMs} ms`;
    return new KodoError("HTTP_TIMEOUT", `${what}: no answer within ${bound}`, { retryable: true, cause: error });
  }
  if (error instanceof DOMException && error.name === "AbortError") return error;
  const cause = error instanceof Error && error.cause !== undefined ? `: ${describeError(error.cause)}` : "";
  return new KodoError("AGENT_UNAVAILABLE", `${what} failed: ${describeError(error)}${cause}`, {
    retryable: true,
    cause: error,
  });
}
