/**
 * The vocabulary of test verification: which runner, what a run found, how it is classified.
 * Everything here is plain data (stored in evidence, rendered into prompts), no behaviour.
 */

export type RunnerName = "pytest" | "node" | "vitest" | "go";
export const RUNNER_NAMES: readonly RunnerName[] = ["pytest", "node", "vitest", "go"];

/** The verdict of one verification, most severe first: TIMEOUT > COLLECTION_ERROR > FLAKE > FAILURE. */
export type TestRunClass = "PASSED" | "TEST_TIMEOUT" | "TEST_FLAKE" | "TEST_FAILURE" | "TEST_COLLECTION_ERROR";

/** Why a class was chosen: the stable, specific reason code behind the class. */
export type ClassificationCode =
  | "ALL_PASSED"
  | "TIMED_OUT"
  | "BUDGET_EXHAUSTED"
  | "COLLECTION_FAILED"
  | "RUNNER_USAGE_ERROR"
  | "NO_TESTS_COLLECTED"
  | "ALL_TESTS_SKIPPED"
  | "NO_RESULTS"
  | "FLAKY_ON_RERUN"
  | "FLAKY_BY_HISTORY"
  | "TESTS_FAILED"
  | "REGRESSION"
  | "EXIT_CODE_WITHOUT_FAILED_TEST"
  | "RUNNER_KILLED";

export type CaseOutcome = "passed" | "failed" | "error" | "skipped";

/**
 * Where a test lives, in the pieces a runner's own selection syntax needs: `file` is the file
 * (pytest, node, vitest; relative to the worktree) or the package import path (go); `path` is the
 * chain of suites/classes down to the test's own name (empty for a whole file or package).
 */
export interface TestLocation {
  file: string;
  path: string[];
}

export interface TestCaseResult {
  /** normalized id: pytest `file::Class::name`, node/vitest `file > suite > name`, go `pkg/TestName/sub` */
  id: string;
  location: TestLocation;
  outcome: CaseOutcome;
  /** failure or error message ("" when passed) */
  message: string;
  durationMs?: number;
}

/** A file, module or package that could not be loaded, compiled or collected. */
export interface CollectionProblem {
  /** file or package, as the runner names it */
  location: string;
  message: string;
}

export interface TestCounts {
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  total: number;
}

export type ReportFormat = "junit" | "node-events" | "go-json" | "console";

/** What one runner invocation reported, from its machine-readable report or (fallback) its console. */
export interface ParsedReport {
  format: ReportFormat;
  cases: TestCaseResult[];
  collectionProblems: CollectionProblem[];
  counts: TestCounts;
  notes: string[];
}

export interface FailedTest {
  id: string;
  message: string;
}

/** Captured output of one stream: at most the configured size, head and tail with a marker between. */
export interface CapturedOutput {
  text: string;
  truncated: boolean;
  totalBytes: number;
}

export interface ArtifactRef {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
}

/** One rerun of the failed tests alone (flake check). */
export interface RerunRecord {
  attempt: number;
  command: string[];
  /** ids selected for this rerun */
  ids: string[];
  /** of those, the ids that passed this time */
  passed: string[];
  /** of those, the ids that failed again (or were not reported at all) */
  stillFailing: string[];
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  artifacts: ArtifactRef[];
  notes: string[];
}

/** Evidence behind a classification, stored with it. */
export interface ClassificationEvidence {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  reportFormat: ReportFormat | "none";
  failedIds: string[];
  /** failed now, passed when rerun alone */
  flakyOnRerun: string[];
  /** failed now, passed earlier in this task */
  passedEarlier: string[];
  /** failed now and again on every rerun */
  consistentFailures: string[];
  collectionProblems: CollectionProblem[];
}

export interface Classification {
  class: TestRunClass;
  code: ClassificationCode;
  reason: string;
  evidence: ClassificationEvidence;
}

/** The result of `runTests`: the verdict, and everything needed to audit it. */
export interface TestRun {
  class: TestRunClass;
  code: ClassificationCode;
  reason: string;
  runner: RunnerName;
  command: string[];
  counts: TestCounts;
  failed: FailedTest[];
  /** ids that passed in this run (the history a later run's flake check reads) */
  passedIds: string[];
  collectionProblems: CollectionProblem[];
  exitCode: number | null;
  signal: string | null;
  /** wall time of the whole verification, reruns included (subtract it from the task's budget) */
  durationMs: number;
  timedOut: boolean;
  /** the timeout the main run actually had: min(timeoutMs, budget) */
  effectiveTimeoutMs: number;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  artifacts: ArtifactRef[];
  sandboxed: boolean;
  notes: string[];
  reruns: RerunRecord[];
  evidence: ClassificationEvidence;
}
