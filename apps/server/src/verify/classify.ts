/**
 * The verdict on a test run, as a value: class + specific code + reason + the evidence behind it.
 * Pure: everything it looks at is in its input.
 *
 * Precedence, first match wins:
 *  1. TEST_TIMEOUT — the budget was spent before running (BUDGET_EXHAUSTED) or the run hit its
 *     timeout (TIMED_OUT), whatever it reported before it was stopped.
 *  2. TEST_COLLECTION_ERROR — the suite could not be loaded, so its tests say nothing: files that
 *     fail to import/compile (pytest collection errors, a node/vitest file that does not load, a
 *     go package that does not build), pytest's exit codes 2/3 (interrupted, internal error), 4
 *     (usage), 5 (no tests collected); also no tests at all, only skipped tests, or neither a
 *     report nor a console summary (NO_RESULTS) — a verification that verified nothing fails closed.
 *  3. TEST_FLAKE — every failed test is a flake: it passed when the failed tests were rerun alone
 *     (FLAKY_ON_RERUN), or, where no rerun could look at it, it passed earlier in this task
 *     (FLAKY_BY_HISTORY, weaker evidence, said so in the reason).
 *  4. TEST_FAILURE — anything else that is not green. A test that passed earlier in this task but
 *     fails again when rerun alone is a REGRESSION (the latest change broke it), not a flake:
 *     history alone never outweighs a deterministic rerun.
 *  5. PASSED — exit code 0, no failed or erroring test, at least one test passed.
 */
import type { Classification, ClassificationEvidence, CollectionProblem, ParsedReport, RerunRecord, RunnerName, TestRunClass, ClassificationCode } from "./types.js";

export interface ClassifyInput {
  runner: RunnerName;
  /** the budget was spent before the run (nothing ran) */
  budgetExhausted: boolean;
  timedOut: boolean;
  timeoutMs: number;
  exitCode: number | null;
  signal: string | null;
  /** the parsed report (or console summary); undefined when neither could be read */
  report: ParsedReport | undefined;
  /** the last lines of stderr, to explain a run without results */
  stderrTail: string;
  /** ids that passed earlier in this task */
  previouslyPassed: readonly string[];
  reruns: readonly RerunRecord[];
}

const LIST_LIMIT = 5;

function list(ids: readonly string[]): string {
  const shown = ids.slice(0, LIST_LIMIT).join(", ");
  return ids.length > LIST_LIMIT ? `${shown} and ${ids.length - LIST_LIMIT} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function decide(code: ClassificationCode, reason: string, evidence: ClassificationEvidence): Classification {
  const classOf: Record<ClassificationCode, TestRunClass> = {
    ALL_PASSED: "PASSED",
    TIMED_OUT: "TEST_TIMEOUT",
    BUDGET_EXHAUSTED: "TEST_TIMEOUT",
    COLLECTION_FAILED: "TEST_COLLECTION_ERROR",
    RUNNER_USAGE_ERROR: "TEST_COLLECTION_ERROR",
    NO_TESTS_COLLECTED: "TEST_COLLECTION_ERROR",
    ALL_TESTS_SKIPPED: "TEST_COLLECTION_ERROR",
    NO_RESULTS: "TEST_COLLECTION_ERROR",
    FLAKY_ON_RERUN: "TEST_FLAKE",
    FLAKY_BY_HISTORY: "TEST_FLAKE",
    TESTS_FAILED: "TEST_FAILURE",
    REGRESSION: "TEST_FAILURE",
    EXIT_CODE_WITHOUT_FAILED_TEST: "TEST_FAILURE",
    RUNNER_KILLED: "TEST_FAILURE",
  };
  return { class: classOf[code], code, reason, evidence };
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}

/** The line of a load/compile error that says what is wrong (not a header such as "Transform failed with 1 error:"). */
export function keyLine(message: string): string {
  const lines = message.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const telling = lines.find((line) => /SyntaxError|PARSE_ERROR|ImportError|ModuleNotFoundError|Cannot find|ERR_MODULE_NOT_FOUND|undefined:|expected /.test(line));
  return telling ?? lines.find((line) => /error/i.test(line) && !line.endsWith(":")) ?? lines[0] ?? "";
}

function collectionReason(problems: readonly CollectionProblem[]): string {
  const first = problems[0];
  const detail = first === undefined ? "" : `: ${first.location}: ${keyLine(first.message)}`;
  return `${problems.length} ${problems.length === 1 ? "file or package" : "files or packages"} could not be loaded or built${detail}`;
}

/** pytest's own exit codes for a suite that did not run (https://docs.pytest.org/en/stable/reference/exit-codes.html). */
function pytestExit(exitCode: number | null, evidence: ClassificationEvidence, stderrTail: string): Classification | undefined {
  const why = firstLine(stderrTail);
  if (exitCode === 2) return decide("COLLECTION_FAILED", `pytest was interrupted (exit 2)${why === "" ? "" : `: ${why}`}`, evidence);
  if (exitCode === 3) return decide("COLLECTION_FAILED", `pytest hit an internal error (exit 3)${why === "" ? "" : `: ${why}`}`, evidence);
  if (exitCode === 4) return decide("RUNNER_USAGE_ERROR", `pytest rejected its command line (exit 4)${why === "" ? "" : `: ${why}`}`, evidence);
  if (exitCode === 5) return decide("NO_TESTS_COLLECTED", "pytest collected no tests (exit 5)", evidence);
  return undefined;
}

export function classifyRun(input: ClassifyInput): Classification {
  const report = input.report;
  const failing = (report?.cases ?? []).filter((item) => item.outcome === "failed" || item.outcome === "error").map((item) => item.id);
  const earlier = new Set(input.previouslyPassed);
  const examinedBy = (id: string): RerunRecord[] => input.reruns.filter((rerun) => !rerun.timedOut && rerun.ids.includes(id));
  const flakyOnRerun = failing.filter((id) => input.reruns.some((rerun) => rerun.passed.includes(id)));
  const consistent = failing.filter((id) => !flakyOnRerun.includes(id) && examinedBy(id).length > 0);
  const evidence: ClassificationEvidence = {
    exitCode: input.exitCode,
    signal: input.signal,
    timedOut: input.timedOut,
    reportFormat: report?.format ?? "none",
    failedIds: failing,
    flakyOnRerun,
    passedEarlier: failing.filter((id) => earlier.has(id)),
    consistentFailures: consistent,
    collectionProblems: report?.collectionProblems ?? [],
  };

  if (input.budgetExhausted) return decide("BUDGET_EXHAUSTED", "budget exhausted: the task's test time is spent, nothing was run", evidence);
  if (input.timedOut) {
    const sofar = report === undefined ? "" : ` (before it was stopped: ${report.counts.passed} passed, ${report.counts.failed} failed)`;
    return decide("TIMED_OUT", `the test run did not finish within ${input.timeoutMs} ms and was stopped${sofar}`, evidence);
  }
  if (report !== undefined && report.collectionProblems.length > 0) return decide("COLLECTION_FAILED", collectionReason(report.collectionProblems), evidence);
  if (input.runner === "pytest") {
    const byExit = pytestExit(input.exitCode, evidence, input.stderrTail);
    if (byExit !== undefined) return byExit;
  }
  if (input.signal !== null && input.exitCode === null) {
    return decide("RUNNER_KILLED", `the test runner was killed by ${input.signal}`, evidence);
  }
  if (report === undefined) {
    const why = firstLine(input.stderrTail);
    return decide("NO_RESULTS", `the runner (exit ${input.exitCode ?? "none"}) wrote no report and no summary line${why === "" ? "" : `: ${why}`}`, evidence);
  }

  const counts = report.counts;
  if (failing.length === 0) {
    if (counts.failed + counts.errors > 0) return decide("TESTS_FAILED", `${counts.failed} failed, ${counts.errors} errors (from the console summary; test names unknown)`, evidence);
    if (counts.total === 0) return decide("NO_TESTS_COLLECTED", "the target holds no tests: nothing was verified", evidence);
    if (counts.passed === 0) return decide("ALL_TESTS_SKIPPED", `all ${plural(counts.total, "test")} were skipped: nothing was verified`, evidence);
    if (input.exitCode !== 0) {
      const why = firstLine(input.stderrTail);
      return decide("EXIT_CODE_WITHOUT_FAILED_TEST", `the runner exited ${input.exitCode ?? "without a code"} although no test failed${why === "" ? "" : `: ${why}`}`, evidence);
    }
    return decide("ALL_PASSED", `${plural(counts.passed, "test")} passed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ""}`, evidence);
  }

  const historyOnly = failing.filter((id) => !flakyOnRerun.includes(id) && examinedBy(id).length === 0 && earlier.has(id));
  const realFailures = failing.filter((id) => !flakyOnRerun.includes(id) && !historyOnly.includes(id));
  if (realFailures.length === 0) {
    if (historyOnly.length === 0) {
      return decide("FLAKY_ON_RERUN", `${plural(failing.length, "test")} failed, then passed when rerun alone: ${list(flakyOnRerun)}`, evidence);
    }
    const rerunPart = flakyOnRerun.length > 0 ? `; passed on rerun: ${list(flakyOnRerun)}` : "";
    return decide("FLAKY_BY_HISTORY", `failed now but passed earlier in this task (not rerun, so unconfirmed): ${list(historyOnly)}${rerunPart}`, evidence);
  }
  const regressions = realFailures.filter((id) => earlier.has(id) && consistent.includes(id));
  const flakyNote = flakyOnRerun.length > 0 ? `; flaky (passed on rerun): ${list(flakyOnRerun)}` : "";
  if (regressions.length > 0) {
    return decide("REGRESSION", `${plural(regressions.length, "test")} that passed earlier in this task now fail${regressions.length === 1 ? "s" : ""} on every rerun: ${list(regressions)}${flakyNote}`, evidence);
  }
  return decide("TESTS_FAILED", `${realFailures.length} of ${plural(counts.total, "test")} failed: ${list(realFailures)}${flakyNote}`, evidence);
}
