/** The parts of a CI job that are not its control flow: its home, following a run, the task request, errors. */
import { chmod, lstat, mkdtemp, readlink, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isTerminal, type Run } from "@kodo/contracts";
import { describeError, isKodoError } from "../lib/errors.js";
import type { KodoService } from "../service/kodo-service.js";
import type { Mission } from "./mission.js";
import type { LoadedTaskFile } from "./task-file.js";

const POLL_MS = 500;
/** how long an ended run's bundle may take to appear (the WriteEvidence step) */
const EVIDENCE_WAIT_MS = 60_000;

export async function chooseHome(env: NodeJS.ProcessEnv): Promise<{ home: string; own: boolean }> {
  const given = env["KODO_HOME"];
  if (given !== undefined && given !== "") return { home: path.resolve(given), own: false };
  const home = await mkdtemp(path.join(os.tmpdir(), "kodo-ci-"));
  await chmod(home, 0o755); // as root, embedded Postgres runs as "postgres" and must reach it
  return { home, own: true };
}

/** Removes a temporary home, and the Postgres directory it points to when that lives outside (root). */
export async function removeHome(home: string): Promise<void> {
  const pg = path.join(home, "pg");
  const link = await lstat(pg).catch(() => undefined);
  if (link?.isSymbolicLink()) await rm(path.resolve(home, await readlink(pg)), { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
}

export async function followRun(service: KodoService, runId: string, mission: Mission, log: (line: string) => void): Promise<Run> {
  let seen = 0;
  for (;;) {
    const run = await mission.race(service.getRun(runId));
    for (const change of run.history.slice(seen)) log(`status ${(change.from ?? "-").padEnd(14)} → ${change.to.padEnd(14)} ${change.reason ?? ""}`);
    seen = run.history.length;
    if (isTerminal(run.status)) return run;
    await mission.sleep(POLL_MS);
  }
}

/** The ended run once its bundle is recorded (bounded by the mission too; a missing bundle is written below). */
export async function awaitEvidence(service: KodoService, run: Run, mission: Mission): Promise<Run> {
  const end = performance.now() + Math.min(EVIDENCE_WAIT_MS, mission.remainingMs);
  let latest = run;
  while (latest.evidencePath === null && performance.now() < end && mission.ended === undefined) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    latest = await service.getRun(run.id);
  }
  return latest;
}

export function createRequest(loaded: LoadedTaskFile): Record<string, unknown> {
  const { task } = loaded;
  const verify = task.verify === undefined ? undefined : (({ testRoots: _testRoots, ...rest }) => rest)(task.verify);
  return {
    title: task.title,
    prompt: task.prompt,
    repoPath: loaded.repoPath,
    baseRef: task.baseRef,
    planApproval: task.planApproval,
    ...(task.planDecisionTimeoutSeconds === undefined ? {} : { planDecisionTimeoutSeconds: task.planDecisionTimeoutSeconds }),
    ...(task.approvalTimeoutSeconds === undefined ? {} : { approvalTimeoutSeconds: task.approvalTimeoutSeconds }),
    ...(verify === undefined ? {} : { verify }),
    ...(task.budget === undefined ? {} : { budget: task.budget }),
    ...(task.policy === undefined ? {} : { policy: task.policy }),
  };
}

export function errorParts(error: unknown): { code: string; message: string } {
  if (isKodoError(error)) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  return { code: typeof code === "string" && code !== "" ? code : "INTERNAL", message: describeError(error) };
}

/** Every located problem of a TASK_FILE_INVALID (the message names only the first). */
export function problemsOf(error: unknown): string[] {
  if (!isKodoError(error) || error.code !== "TASK_FILE_INVALID") return [];
  const problems = error.details?.["problems"];
  const file = error.details?.["file"];
  if (!Array.isArray(problems) || problems.length < 2) return [];
  return problems.map((problem: { line?: unknown; col?: unknown; field?: unknown; message?: unknown }) => `${String(file)}:${String(problem.line)}:${String(problem.col)}: ${String(problem.field)}: ${String(problem.message)}`);
}

