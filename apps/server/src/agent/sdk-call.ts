/** Unwrapping `@opencode-ai/sdk` results into data or a KodoError with a stable code. */
import { KodoError, describeError, type ErrorCode } from "../lib/errors.js";
import { httpError } from "./http.js";

interface SdkFields<T> {
  data?: T | undefined;
  error?: unknown;
  response?: Response | undefined;
}

function errorMessage(body: unknown): string {
  if (typeof body === "string" && body !== "") return body;
  if (typeof body === "object" && body !== null) {
    const record = body as { message?: unknown; name?: unknown; _tag?: unknown; data?: { message?: unknown } };
    for (const candidate of [record.data?.message, record.message, record.name, record._tag]) {
      if (typeof candidate === "string" && candidate !== "") return candidate;
    }
  }
  return describeError(body);
}

function codeFor(status: number): ErrorCode {
  if (status === 400) return "BAD_REQUEST";
  if (status === 401 || status === 403) return "UNAUTHORIZED";
  if (status === 404) return "NOT_FOUND";
  return "AGENT_UNAVAILABLE";
}

/** Awaits an SDK call (default "fields" response style) and returns its data, or throws a KodoError. */
export async function unwrap<T>(what: string, call: Promise<SdkFields<T>>): Promise<T> {
  let result: SdkFields<T>;
  try {
    result = await call;
  } catch (error) {
    // thrown while reading the body (e.g. the overall timeout fired mid-body)
    throw httpError(error, what);
  }
  if (result.error !== undefined || result.data === undefined) {
    const response = result.response;
    if (response === undefined) throw httpError(result.error, what);
    const status = response.status;
    throw new KodoError(codeFor(status), `${what} → ${status}: ${errorMessage(result.error)}`, {
      retryable: status >= 500,
      details: { status, body: result.error },
    });
  }
  return result.data;
}
