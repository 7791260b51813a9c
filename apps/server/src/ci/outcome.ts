/**
 * What a CI job makes of a run: one status and one exit code. Pure; the table is in docs/ci.md.
 */
import type { TaskStatus } from "@kodo/contracts";
import { REASON_CODES } from "../policy/codes.js";

export type CiStatus = "success" | "failed" | "mission_timeout" | "denied" | "invalid_task" | "infrastructure_error" | "interrupted";

/** `kodo ci run`'s exit codes (its own table: a CI job branches on them). */
export const CI_EXIT_CODES = {
  success: 0,
  failed: 1,
  mission_timeout: 2,
  denied: 3,
  invalid_task: 4,
  infrastructure_error: 4,
  interrupted: 130,
} as const satisfies Record<CiStatus, number>;
export type CiExitCode = (typeof CI_EXIT_CODES)[CiStatus];

/**
 * Run error codes that mean "a policy stopped the agent": every code the policy engine, the test
 * scope check and the worktree audit give (docs/policy.md), and the guards and limits a policy
 * sets: the budget, a worktree changed before approval, a plan that needs its quorum.
 */
export const DENIED_BY_POLICY_CODES: ReadonlySet<string> = new Set([
  ...REASON_CODES.filter((code) => code !== "ALLOWED" && code !== "MISSION_TIMEOUT"),
  "BUDGET_EXCEEDED",
  "WORKTREE_CHANGED",
  "PLAN_QUORUM_REQUIRED",
]);

/**
 * Run error codes that are about the machine, not the task: kodo, Postgres, OpenCode or the
 * sandbox broke. CLIFAIL is what a control plane that could not start becomes.
 */
export const INFRASTRUCTURE_CODES: ReadonlySet<string> = new Set([
  "CLIFAIL",
  "DB_UNAVAILABLE",
  "MIGRATION_MISMATCH",
  "OPENCODE_START_FAILED",
  "AGENT_UNAVAILABLE",
  "HTTP_TIMEOUT",
  "SANDBOX_UNAVAILABLE",
  "SANDBOX_FAILED",
  "RUN_ORPHANED",
  "WORKFLOW_ENDED",
  "INTERNAL",
]);

export interface CiVerdict {
  status: CiStatus;
  exitCode: CiExitCode;
  code: string | null;
  message: string;
}

function verdict(status: CiStatus, code: string | null, message: string): CiVerdict {
  return { status, exitCode: CI_EXIT_CODES[status], code, message };
}

/** A failure code (of a run, or of a step before the run) as the CI job sees it. */
export function classifyCode(code: string, message: string): CiVerdict {
  if (code === "MISSION_TIMEOUT") return verdict("mission_timeout", code, message);
  if (code === "INTERRUPTED") return verdict("interrupted", code, message);
  if (DENIED_BY_POLICY_CODES.has(code)) return verdict("denied", code, message);
  if (INFRASTRUCTURE_CODES.has(code)) return verdict("infrastructure_error", code, message);
  return verdict("failed", code, message);
}

/**
 * A failure before there was a run to judge: the control plane did not start (CLIFAIL), or the
 * task could not be created (a bad task file or repository: invalid_task; a policy refusal: denied).
 */
export function classifySetupError(code: string, message: string): CiVerdict {
  if (code === "MISSION_TIMEOUT" || code === "INTERRUPTED" || DENIED_BY_POLICY_CODES.has(code)) return classifyCode(code, message);
  if (INFRASTRUCTURE_CODES.has(code)) return verdict("infrastructure_error", code, message);
  return verdict("invalid_task", code, message);
}

/** An ended run: Done is success; Failed by its code; Rejected and Cancelled failed the task. */
export function classifyRun(run: { status: TaskStatus; error: { code: string; message: string } | null; history: ReadonlyArray<{ reason: string | null }> }): CiVerdict {
  if (run.status === "Done") return verdict("success", null, "the run ended Done");
  if (run.status === "Failed") {
    const code = run.error?.code ?? "INTERNAL";
    return classifyCode(code, run.error?.message ?? "the run failed");
  }
  const reason = run.history.at(-1)?.reason ?? null;
  const code = run.status === "Rejected" ? "PLAN_REJECTED" : "CANCELLED";
  return verdict("failed", code, `the run ended ${run.status}${reason === null ? "" : `: ${reason}`}`);
}
