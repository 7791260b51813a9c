/**
 * The CLI's one error type and its exit codes. Every failure the CLI reports is a `CliError`
 * with a stable `code` (the server's code when the server gave one) and the process exit code
 * it maps to. The table is in docs/cli.md; keep the two in step.
 */

export const ExitCode = {
  /** the command did what was asked */
  ok: 0,
  /** the operation failed: the waited-on run ended Failed/Rejected/Cancelled, or a server error */
  failed: 1,
  /** unknown command or flag, missing argument */
  usage: 2,
  /** HTTP 404 */
  notFound: 3,
  /** HTTP 409/422, or 400 validation: the request conflicts with the current state */
  conflict: 4,
  /** the kodo server is not reachable or not running, or an infrastructure error */
  unavailable: 5,
  /** Ctrl-C while waiting on a run (the run itself goes on) */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, exitCode: ExitCode, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.code = code;
    this.exitCode = exitCode;
    this.details = options.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) };
  }
}

/** The exit code an HTTP error status maps to. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return ExitCode.notFound;
  if (status === 400 || status === 409 || status === 422) return ExitCode.conflict;
  if (status === 502 || status === 503 || status === 504) return ExitCode.unavailable;
  return ExitCode.failed;
}

const CONFLICT_CODES = new Set([
  "BAD_REQUEST",
  "VALIDATION_FAILED",
  "CONFLICT",
  "RUN_NOT_WAITING",
  "RUN_ALREADY_ACTIVE",
  "RUN_NOT_ACTIVE",
  "REPO_NOT_FOUND",
  "REPO_NOT_GIT",
  "BASE_REF_NOT_FOUND",
  "REPO_DIRTY",
  "CONFIG_INVALID",
  "SCRIPT_INVALID",
]);

const UNAVAILABLE_CODES = new Set([
  "SERVER_NOT_RUNNING",
  "SERVER_UNREACHABLE",
  "HTTP_TIMEOUT",
  "INVALID_RESPONSE",
  "DB_UNAVAILABLE",
  "AGENT_UNAVAILABLE",
  "OPENCODE_START_FAILED",
  "MIGRATION_MISMATCH",
]);

/** The exit code of an error code raised in this process (by `kodo serve`, `kodo model serve`, …). */
export function exitCodeForCode(code: string): ExitCode {
  if (code === "USAGE") return ExitCode.usage;
  if (code === "NOT_FOUND") return ExitCode.notFound;
  if (code === "INTERRUPTED") return ExitCode.interrupted;
  if (CONFLICT_CODES.has(code)) return ExitCode.conflict;
  if (UNAVAILABLE_CODES.has(code)) return ExitCode.unavailable;
  // Node system errors (EADDRINUSE, EACCES, ENOSPC …) are about the machine, not the request.
  if (/^E[A-Z]+$/.test(code)) return ExitCode.unavailable;
  return ExitCode.failed;
}

/** Any thrown value as a CliError; errors with a string `code` (KodoError, Node errors) keep it. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    if (typeof code === "string" && code !== "") {
      const details = (error as Error & { details?: unknown }).details;
      const isRecord = typeof details === "object" && details !== null && !Array.isArray(details);
      return new CliError(code, error.message, exitCodeForCode(code), {
        ...(isRecord ? { details: details as Record<string, unknown> } : {}),
        cause: error,
      });
    }
    return new CliError("INTERNAL", error.message, ExitCode.failed, { cause: error });
  }
  return new CliError("INTERNAL", String(error), ExitCode.failed);
}
