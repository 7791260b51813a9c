/**
 * What the build agent is told after a red verification: which tests, what they said, and what
 * to do about this class of failure. Pure and deterministic: the same run gives the same text,
 * byte for byte (the prompt is part of an op key).
 */
import type { CollectionProblem, FailedTest, TestRunClass } from "./types.js";

export interface RetryContext {
  class: TestRunClass;
  /** at most MAX_FAILED_TESTS ids */
  failedTests: string[];
  /** at most MAX_ERRORS messages, each at most MAX_ERROR_CHARS characters */
  errors: string[];
  suggestion: string;
}

/** The parts of a TestRun the retry context reads. */
export interface RetrySource {
  class: TestRunClass;
  reason: string;
  failed: readonly FailedTest[];
  collectionProblems: readonly CollectionProblem[];
}

export const MAX_FAILED_TESTS = 10;
export const MAX_ERRORS = 5;
export const MAX_ERROR_CHARS = 500;

export const SUGGESTIONS: Readonly<Record<TestRunClass, string>> = {
  PASSED: "All tests pass; nothing to fix.",
  TEST_FAILURE:
    "Read each failing assertion and fix the code under test so the tests pass. Change a test only if the test itself is wrong, and say why.",
  TEST_COLLECTION_ERROR:
    "The tests could not be loaded: fix the syntax error, the failing import or the build error first (check file names, module paths and missing dependencies); no test result counts until the suite loads.",
  TEST_FLAKE:
    "These tests pass and fail without a code change: look for order dependence, shared state between tests, timing and sleeps, randomness, or leftover files, and make them deterministic. Do not just retry or skip them.",
  TEST_TIMEOUT:
    "The tests did not finish in time: look for an infinite loop, a deadlock, a test waiting for input or the network (there is none), or a process that never exits; make the slow path fast or bounded.",
};

/** Trims to `limit` characters, marking the cut; whitespace runs at the ends removed. */
export function trimMessage(message: string, limit = MAX_ERROR_CHARS): string {
  const text = message.trim();
  if (text.length <= limit) return text;
  return `${text.slice(0, limit - 1).trimEnd()}…`;
}

export function buildRetryContext(run: RetrySource): RetryContext {
  const failedTests = run.failed.slice(0, MAX_FAILED_TESTS).map((test) => test.id);
  const errors: string[] = [];
  for (const problem of run.collectionProblems) errors.push(trimMessage(`${problem.location}: ${problem.message}`));
  for (const test of run.failed) {
    if (test.message.trim() !== "") errors.push(trimMessage(`${test.id}: ${test.message}`));
  }
  if (errors.length === 0 && run.class !== "PASSED") errors.push(trimMessage(run.reason));
  return { class: run.class, failedTests, errors: errors.slice(0, MAX_ERRORS), suggestion: SUGGESTIONS[run.class] };
}

function indent(text: string): string {
  return text.split("\n").map((line) => (line.trim() === "" ? "" : `    ${line}`)).join("\n");
}

/** The text for the build agent's next prompt. */
export function renderRetryContext(context: RetryContext): string {
  const lines = [`The tests did not pass (${context.class}).`];
  if (context.failedTests.length > 0) {
    lines.push("", "Failing tests:");
    for (const id of context.failedTests) lines.push(`  - ${id}`);
  }
  if (context.errors.length > 0) {
    lines.push("", "Errors:");
    for (const error of context.errors) lines.push(`  - ${error.split("\n")[0] ?? ""}`, ...(error.includes("\n") ? [indent(error.split("\n").slice(1).join("\n"))] : []));
  }
  lines.push("", `What to do: ${context.suggestion}`);
  return lines.join("\n");
}
