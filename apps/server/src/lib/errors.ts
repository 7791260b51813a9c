/**
 * Every error kodo raises on purpose carries a stable `code` and says whether retrying can help.
 * Codes are one string-literal union, used by the API, the CLI exit codes and the evidence.
 */
export type ErrorCode =
  // input and lookup
  | "BAD_REQUEST"
  | "VALIDATION_FAILED"
  | "NOT_FOUND"
  | "CONFLICT"
  | "RUN_NOT_WAITING"
  | "RUN_ALREADY_ACTIVE"
  | "RUN_NOT_ACTIVE"
  | "APPROVAL_NOT_PENDING"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  // governance (quorum approvals)
  | "GOVERNANCE_NOT_CONFIGURED"
  | "GOVERNANCE_EXISTS"
  | "PROPOSAL_NOT_PENDING"
  | "VOTE_CONFLICT"
  | "PLAN_QUORUM_REQUIRED"
  // repository and workspace
  | "REPO_NOT_FOUND"
  | "REPO_NOT_GIT"
  | "BASE_REF_NOT_FOUND"
  | "REPO_DIRTY"
  | "WORKTREE_FAILED"
  | "WORKTREE_REQUIRED"
  | "WORKTREE_CONFLICT"
  | "WORKTREE_DIRTY"
  | "GIT_FAILED"
  | "WORKTREE_CHANGED"
  | "PLAN_DECISION_TIMEOUT"
  | "INTERRUPTED"
  // agent and model
  | "AGENT_STALLED"
  | "AGENT_FAILED"
  | "AGENT_UNAVAILABLE"
  | "PLAN_INVALID"
  | "MODEL_CALL_FAILED"
  | "LEDGER_CONFLICT"
  | "DEADLINE_EXCEEDED"
  | "MISSION_TIMEOUT"
  | "BUDGET_EXCEEDED"
  // infrastructure
  | "DB_UNAVAILABLE"
  | "MIGRATION_MISMATCH"
  | "OPENCODE_START_FAILED"
  | "HTTP_TIMEOUT"
  | "SCRIPT_INVALID"
  | "CONFIG_INVALID"
  | "SERVER_NOT_RUNNING"
  // `kodo ci run`: the control plane (Postgres, DBOS, the OpenCode server and client) could not start
  | "CLIFAIL"
  | "TASK_FILE_INVALID"
  // `kodo suite run` (the dogfood suite's failure codes; GITCLEANFAIL/MODIFICATIONFAIL are policy reason codes)
  | "MODELNOTFOUND"
  | "TIMEOUTEXCEEDED"
  | "EMPTYRESPONSE"
  | "SYNTAXERROR"
  | "TESTFAIL"
  | "EVIDENCEMISMATCH"
  // sandbox
  | "SANDBOX_UNAVAILABLE"
  | "SANDBOX_SPEC_INVALID"
  | "SANDBOX_FAILED"
  // test verification
  | "TEST_RUNNER_UNKNOWN"
  | "TEST_RUNNER_UNAVAILABLE"
  | "TEST_TARGET_INVALID"
  // policy
  | "POLICY_INVALID"
  | "INTERNAL";

export class KodoError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KodoError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isKodoError(value: unknown): value is KodoError {
  return value instanceof KodoError;
}

/** A short, human message for any thrown value (never throws itself). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
