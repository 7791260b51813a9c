/**
 * Cleanup without a pid namespace (the opt-out fallback): a run's processes are its process
 * group plus everything carrying its marker variable (inherited through setsid and double forks;
 * only a process that clears its own environment escapes both). Members are frozen with SIGSTOP
 * until a pass finds no new one (a respawn loop cannot outrun that), then SIGKILLed.
 */
import { listPids, readEnviron, readStat } from "../agent/process-table.js";

export const RUN_MARKER_ENV = "KODO_SANDBOX_RUN";

export interface RunIdentity {
  pgid: number;
  marker: string;
  /** true while the group leader is unreaped: only then is `-pgid` certainly our group */
  leaderHeld: () => boolean;
}

function belongs(pid: number, run: RunIdentity): boolean {
  const stat = readStat(pid);
  if (stat === undefined || stat.state === "Z" || stat.state === "X") return false;
  if (stat.pgid === run.pgid) return true;
  return readEnviron(pid)?.get(RUN_MARKER_ENV) === run.marker;
}

/** Live processes of the run (never this process). */
export function runMembers(run: RunIdentity): number[] {
  return listPids().filter((pid) => pid !== process.pid && belongs(pid, run));
}

function send(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: gone
  }
}

/** One signal to the whole run: the group (while certainly ours) and each marked process. */
export function signalRun(run: RunIdentity, signal: NodeJS.Signals): void {
  if (run.leaderHeld() && run.pgid > 1) send(-run.pgid, signal);
  for (const pid of runMembers(run)) send(pid, signal);
}

async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Waits until the run has no live member or `ms` passed; true when empty. */
async function waitForNoMembers(run: RunIdentity, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (runMembers(run).length === 0) return true;
    if (performance.now() >= until) return false;
    await sleep(10);
  }
}

function freeze(run: RunIdentity): Set<number> {
  const stopped = new Set<number>();
  for (let pass = 0; pass < 100; pass += 1) {
    const fresh = runMembers(run).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      send(pid, "SIGSTOP");
      stopped.add(pid);
    }
  }
  return stopped;
}

/** Freeze and SIGKILL every member until none is left or `deadlineMs` passed; returns survivors. */
export async function sweepRun(run: RunIdentity, deadlineMs: number): Promise<number[]> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    const stopped = freeze(run);
    if (stopped.size === 0) return [];
    if (run.leaderHeld()) send(-run.pgid, "SIGKILL");
    for (const pid of stopped) if (belongs(pid, run)) send(pid, "SIGKILL");
    const left = Math.max(0, until - performance.now());
    if (await waitForNoMembers(run, Math.min(500, left))) return [];
    if (performance.now() >= until) return runMembers(run);
  }
}
