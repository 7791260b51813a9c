/**
 * `kodo doctor`: every check runs at once, each under its own deadline, the whole under another;
 * a check that does not finish in time is a FAIL that says so. Nothing here can hang the command.
 */
import { setMaxListeners } from "node:events";
import { describeError } from "../lib/errors.js";
import { checkOverdueApprovals, checkPendingModelCalls } from "./checks/backlog.js";
import { checkDatabase, checkDbosSchema, checkMigrations } from "./checks/database.js";
import { checkConfig, checkKodoServer } from "./checks/kodo.js";
import { checkDisk, checkGit, checkNode, checkSandbox } from "./checks/machine.js";
import { checkOpenCodeBinary, checkOpenCodeServer } from "./checks/opencode.js";
import { checkPorts } from "./checks/ports.js";
import { checkApplicationVersion, checkStuckRuns } from "./checks/workflows.js";
import { createContext, type DoctorContext } from "./context.js";
import { fail, type CheckResult, type DoctorOptions, type DoctorReport, type Finding } from "./types.js";

export interface Check {
  id: string;
  run(context: DoctorContext, signal: AbortSignal): Promise<Finding>;
}

/** In the order they are reported. */
export const CHECKS: readonly Check[] = [
  { id: "node", run: checkNode },
  { id: "git", run: checkGit },
  { id: "disk", run: checkDisk },
  { id: "sandbox", run: checkSandbox },
  { id: "config", run: checkConfig },
  { id: "opencode.binary", run: checkOpenCodeBinary },
  { id: "opencode.server", run: checkOpenCodeServer },
  { id: "ports", run: checkPorts },
  { id: "kodo.server", run: checkKodoServer },
  { id: "database", run: checkDatabase },
  { id: "database.migrations", run: checkMigrations },
  { id: "dbos.schema", run: checkDbosSchema },
  { id: "dbos.version", run: checkApplicationVersion },
  { id: "runs.stuck", run: checkStuckRuns },
  { id: "model-calls.pending", run: checkPendingModelCalls },
  { id: "approvals.overdue", run: checkOverdueApprovals },
];

export const DOCTOR_DEFAULTS = {
  stuckMinutes: 30,
  checkTimeoutMs: 20_000,
  totalTimeoutMs: 45_000,
  ports: { kodo: 7433, opencode: 4096 },
} as const;

/** Resolves with the check's finding, or a FAIL when it throws or misses `deadlineMs`. */
async function runCheck(check: Check, context: DoctorContext, deadlineMs: number, overall: AbortSignal): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOverall: (() => void) | undefined;
  const expired = new Promise<Finding>((resolve) => {
    const expire = (why: string): void => {
      controller.abort(why);
      resolve(fail(`the check did not finish within ${why}`, "run kodo doctor again; if it repeats, what this check probes is hanging (see its id)"));
    };
    timer = setTimeout(() => expire(`its deadline (${deadlineMs} ms)`), deadlineMs);
    timer.unref();
    onOverall = () => expire("doctor's overall deadline");
    if (overall.aborted) onOverall();
    else overall.addEventListener("abort", onOverall, { once: true });
  });
  try {
    const finding = await Promise.race([
      check.run(context, controller.signal).catch((error: unknown) => fail(`the check itself failed: ${describeError(error)}`, "report this; the other checks still ran")),
      expired,
    ]);
    return { id: check.id, ...finding };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onOverall !== undefined) overall.removeEventListener("abort", onOverall);
    controller.abort("done");
  }
}

/**
 * Examines the kodo home of `options.env` (KODO_HOME, default ~/.kodo): the machine, OpenCode,
 * kodo's server, the database and what is in flight. Read-only: it changes nothing.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const context = createContext({
    env: options.env ?? process.env,
    stuckMinutes: options.stuckMinutes ?? DOCTOR_DEFAULTS.stuckMinutes,
    ports: options.ports ?? DOCTOR_DEFAULTS.ports,
  });
  const totalMs = options.totalTimeoutMs ?? DOCTOR_DEFAULTS.totalTimeoutMs;
  const checkMs = Math.min(options.checkTimeoutMs ?? DOCTOR_DEFAULTS.checkTimeoutMs, totalMs);
  const overall = new AbortController();
  setMaxListeners(CHECKS.length + 1, overall.signal); // one listener per check, on purpose
  const timer = setTimeout(() => overall.abort("deadline"), totalMs);
  timer.unref();
  try {
    const checks = await Promise.all(CHECKS.map((check) => runCheck(check, context, checkMs, overall.signal)));
    return { ok: checks.every((check) => check.status !== "FAIL"), home: context.config.home.root, checks };
  } finally {
    clearTimeout(timer);
    await context.close();
  }
}
