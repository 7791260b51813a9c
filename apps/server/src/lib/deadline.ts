import { KodoError, type ErrorCode } from "./errors.js";

/** Waits for `promise`, but never longer than `ms`; on expiry throws a KodoError with `code`. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  code: ErrorCode,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new KodoError(code, `${what} did not finish within ${ms} ms`, { retryable: true }));
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Polls `check` until it returns a value other than undefined, or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; what: string; code?: ErrorCode },
): Promise<T> {
  const started = performance.now();
  const interval = options.intervalMs ?? 100;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() - started > options.timeoutMs) {
      throw new KodoError(options.code ?? "DEADLINE_EXCEEDED", `${options.what}: not reached within ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
