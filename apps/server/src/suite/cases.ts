/**
 * The dogfood suite's 15 cases (seed 002, "OpenCode dogfood suite v1.2c"): what each one is, the
 * stage it belongs to and the outcome it expects. Pure data; what a case does is in case-bodies.ts.
 */
import type { ErrorCode } from "../lib/errors.js";
import type { ReasonCode } from "../policy/codes.js";

export const STAGES = ["T1", "T2a", "T2b", "T3", "T4"] as const;
export type Stage = (typeof STAGES)[number];

export const CASE_IDS = [
  "T1C01",
  "T1C02",
  "T1C03",
  "T2A01",
  "T2A02",
  "T2A03",
  "T2B01",
  "T2B02",
  "T2B03",
  "T3C01",
  "T3C02",
  "T3C03",
  "T3C04",
  "T4E01",
  "T4E02",
] as const;
export type CaseId = (typeof CASE_IDS)[number];

export type ExpectedOutcome = "SUCCESS" | "EXPECTED_FAIL";

/**
 * Every code a case can fail with: the seed's validator contract, plus the kodo codes the policy
 * and the worktree audit give (DESTRUCTIVE_GIT, GIT_STATE_CHANGED, NESTED_REPO, AUDIT_FAILED),
 * TESTFAIL (a fixed or generated test does not pass) and the suite's own INTERRUPTED / INTERNAL.
 */
export const FAILURE_CODES = [
  "CLIFAIL",
  "MODELNOTFOUND",
  "GITCLEANFAIL",
  "MODIFICATIONFAIL",
  "WORKTREE_REQUIRED",
  "TIMEOUTEXCEEDED",
  "EMPTYRESPONSE",
  "SYNTAXERROR",
  "EVIDENCEMISMATCH",
  "TESTFAIL",
  "DESTRUCTIVE_GIT",
  "GIT_STATE_CHANGED",
  "NESTED_REPO",
  "AUDIT_FAILED",
  "INTERRUPTED",
  "INTERNAL",
] as const satisfies readonly (ErrorCode | ReasonCode)[];
export type FailureCode = (typeof FAILURE_CODES)[number];

/** Failures that stop the whole suite at once, with or without --fail-fast (the seed's safety rails). */
export const SAFETY_CODES: ReadonlySet<FailureCode> = new Set([
  "GITCLEANFAIL",
  "MODIFICATIONFAIL",
  "WORKTREE_REQUIRED",
  "DESTRUCTIVE_GIT",
  "GIT_STATE_CHANGED",
  "NESTED_REPO",
  "AUDIT_FAILED",
]);

/**
 * How a case may touch the tree. `read-only`: the plan agent, and any change at all fails the
 * case with GITCLEANFAIL (T1, T2a, the code review, T4). `write`: the build agent, writes inside
 * the write allowlist only (MODIFICATIONFAIL), no deletion (GITCLEANFAIL).
 */
export type Access = "read-only" | "write";

export interface SuiteCase {
  id: CaseId;
  stage: Stage;
  expected: ExpectedOutcome;
  /** the failure code an EXPECTED_FAIL case must end with */
  expectedCode?: FailureCode;
  access: Access;
  purpose: string;
}

export const CASES: readonly SuiteCase[] = [
  { id: "T1C01", stage: "T1", expected: "SUCCESS", access: "read-only", purpose: "Direct client ping" },
  { id: "T1C02", stage: "T1", expected: "SUCCESS", access: "read-only", purpose: "Multi-role key selection" },
  { id: "T1C03", stage: "T1", expected: "EXPECTED_FAIL", expectedCode: "MODELNOTFOUND", access: "read-only", purpose: "Invalid model" },
  { id: "T2A01", stage: "T2a", expected: "SUCCESS", access: "read-only", purpose: "Scratch doc analysis" },
  { id: "T2A02", stage: "T2a", expected: "SUCCESS", access: "read-only", purpose: "Policy doc review" },
  { id: "T2A03", stage: "T2a", expected: "SUCCESS", access: "read-only", purpose: "Probe doc quality check" },
  { id: "T2B01", stage: "T2b", expected: "SUCCESS", access: "write", purpose: "Scratch file write" },
  { id: "T2B02", stage: "T2b", expected: "SUCCESS", access: "write", purpose: "Scratch file append" },
  { id: "T2B03", stage: "T2b", expected: "EXPECTED_FAIL", expectedCode: "GITCLEANFAIL", access: "write", purpose: "Deletion sentinel validation" },
  { id: "T3C01", stage: "T3", expected: "SUCCESS", access: "write", purpose: "Function generation" },
  { id: "T3C02", stage: "T3", expected: "SUCCESS", access: "write", purpose: "Bug fix task" },
  { id: "T3C03", stage: "T3", expected: "SUCCESS", access: "write", purpose: "Test generation" },
  { id: "T3C04", stage: "T3", expected: "SUCCESS", access: "read-only", purpose: "Code review" },
  { id: "T4E01", stage: "T4", expected: "SUCCESS", access: "read-only", purpose: "Empty prompt handling" },
  { id: "T4E02", stage: "T4", expected: "EXPECTED_FAIL", expectedCode: "TIMEOUTEXCEEDED", access: "read-only", purpose: "Timeout enforcement" },
];

/** Stages from T2b on write, so they run only in a kodo worktree (WORKTREE_REQUIRED). */
export function needsWorktree(stage: Stage): boolean {
  return STAGES.indexOf(stage) >= STAGES.indexOf("T2b");
}

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

export function isCaseId(value: string): value is CaseId {
  return (CASE_IDS as readonly string[]).includes(value);
}

/** The seed's PASS rule: SUCCESS as expected, or the expected failure with the expected code. */
export function verdictOf(kase: SuiteCase, actual: "SUCCESS" | "FAIL", code: FailureCode | null): "PASS" | "FAIL" {
  if (kase.expected === "SUCCESS") return actual === "SUCCESS" ? "PASS" : "FAIL";
  return actual === "FAIL" && code === kase.expectedCode ? "PASS" : "FAIL";
}
