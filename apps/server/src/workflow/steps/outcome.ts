import { isKodoError, describeError } from "../../lib/errors.js";

/** What a step reports instead of throwing when the run must end: a value the workflow can branch on. */
export type StepOutcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export function ok<T>(value: T): StepOutcome<T> {
  return { ok: true, value };
}

/**
 * Turns a non-retryable failure into a value; rethrows retryable ones so DBOS retries the step.
 */
export function failureOf(error: unknown): { ok: false; code: string; message: string } {
  if (isKodoError(error)) {
    if (error.retryable) throw error;
    return { ok: false, code: error.code, message: error.message };
  }
  throw error;
}

export function shouldRetry(error: unknown): boolean {
  return isKodoError(error) ? error.retryable : true;
}

export function messageOf(error: unknown): string {
  return describeError(error);
}
