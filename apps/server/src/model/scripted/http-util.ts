/** Small node:http helpers of the scripted model server. */
import type { IncomingMessage, ServerResponse } from "node:http";

export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/**
 * Reads the whole body. Bounded in size by `limit` and in time by the server's
 * `requestTimeout` (node closes the request, which rejects here).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(limit));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
    request.on("close", () => reject(new Error("request closed before its body was read")));
  });
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed || response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

/** An OpenAI-style error body. */
export function openAiError(status: number, message: string, code: string | null = null): object {
  return { error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", param: null, code } };
}

/** setTimeout fires at once for delays above this; longer waits are clamped to it (~24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Waits `ms`, or less when `signal` aborts. Resolves true when the time elapsed, false when
 * aborted. Leaves no timer behind either way.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.min(ms, MAX_TIMER_MS));
    timer.unref();
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
