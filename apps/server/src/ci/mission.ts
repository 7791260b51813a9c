/**
 * The mission watchdog of a CI run: one deadline over everything, and the CI job's own
 * cancellation (SIGINT/SIGTERM). Waits raced against it end at once when it fires.
 */
import { KodoError } from "../lib/errors.js";

export type MissionEnd = "MISSION_TIMEOUT" | "INTERRUPTED";

export class Mission {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #deadline: number;
  readonly #timeoutMs: number;
  #end: MissionEnd | undefined;

  constructor(timeoutMs: number, interrupt?: AbortSignal) {
    this.#timeoutMs = timeoutMs;
    this.#deadline = performance.now() + timeoutMs;
    this.#timer = setTimeout(() => this.#finish("MISSION_TIMEOUT"), timeoutMs);
    if (interrupt?.aborted === true) this.#finish("INTERRUPTED");
    else interrupt?.addEventListener("abort", () => this.#finish("INTERRUPTED"), { once: true });
  }

  #finish(end: MissionEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    clearTimeout(this.#timer);
    this.#controller.abort(end);
  }

  /** why the mission ended early, if it did */
  get ended(): MissionEnd | undefined {
    return this.#end;
  }

  get remainingMs(): number {
    return Math.max(0, this.#deadline - performance.now());
  }

  /** The error a wait cut off by the watchdog rejects with. */
  error(): KodoError {
    return this.#end === "INTERRUPTED"
      ? new KodoError("INTERRUPTED", "the CI job was interrupted (SIGINT/SIGTERM)")
      : new KodoError("MISSION_TIMEOUT", `the mission did not finish within ${Math.round(this.#timeoutMs / 1000)} s`);
  }

  /** `promise`, unless the mission ends first (then it rejects with `error()`; the promise runs on, unobserved). */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#end !== undefined) {
      promise.catch(() => undefined);
      return Promise.reject(this.error());
    }
    return new Promise<T>((resolve, reject) => {
      const onEnd = (): void => reject(this.error());
      this.#controller.signal.addEventListener("abort", onEnd, { once: true });
      promise.then(
        (value) => {
          this.#controller.signal.removeEventListener("abort", onEnd);
          resolve(value);
        },
        (error: unknown) => {
          this.#controller.signal.removeEventListener("abort", onEnd);
          reject(error);
        },
      );
    });
  }

  /** Waits `ms`, or less if the mission ends (then it rejects). */
  sleep(ms: number): Promise<void> {
    return this.race(new Promise<void>((resolve) => setTimeout(resolve, ms).unref()));
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/** `promise` or `undefined` after `ms` (a bounded wait for cleanup that must not hang). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ done: true as const, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
