/**
 * What `kodo doctor` reports: one finding per check, each a value with a stable id, a status, a
 * one-line summary and, when something is wrong, the fix.
 */

export type CheckStatus = "PASS" | "WARN" | "FAIL";

export interface CheckResult {
  /** stable: `node`, `git`, `database.migrations`, `runs.stuck`, … */
  id: string;
  status: CheckStatus;
  /** one line: what was found */
  summary: string;
  /** one line: what to do about it (WARN and FAIL) */
  fix?: string;
  /** the evidence behind the summary */
  details?: Record<string, unknown>;
}

export interface DoctorReport {
  /** no check FAILed */
  ok: boolean;
  /** the kodo home that was examined */
  home: string;
  checks: CheckResult[];
}

export interface DoctorOptions {
  /** the environment kodo would run with (KODO_HOME, DATABASE_URL, KODO_APP_VERSION, …); default process.env */
  env?: NodeJS.ProcessEnv;
  /** a run (or pending model call) without any progress for this long is stuck; default 30 */
  stuckMinutes?: number;
  /** deadline of each check; default 20 s */
  checkTimeoutMs?: number;
  /** deadline of the whole doctor; default 45 s */
  totalTimeoutMs?: number;
  /** the ports whose collisions are checked; default kodo 7433, OpenCode 4096 */
  ports?: { kodo: number; opencode: number };
}

/** What a check returns; runDoctor adds the id. */
export type Finding = Omit<CheckResult, "id">;

export function pass(summary: string, details?: Record<string, unknown>): Finding {
  return { status: "PASS", summary, ...(details === undefined ? {} : { details }) };
}

export function warn(summary: string, fix: string, details?: Record<string, unknown>): Finding {
  return { status: "WARN", summary, fix, ...(details === undefined ? {} : { details }) };
}

export function fail(summary: string, fix: string, details?: Record<string, unknown>): Finding {
  return { status: "FAIL", summary, fix, ...(details === undefined ? {} : { details }) };
}
