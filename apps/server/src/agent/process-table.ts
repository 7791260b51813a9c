/**
 * Just enough of Linux's /proc to find, identify and end processes kodo started. Every reader
 * returns undefined for a process that vanished or cannot be read: processes come and go while
 * we look, so nothing here throws for that.
 */
import fs from "node:fs";

export interface ProcessStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** clock ticks after boot: with the pid, identifies a process across pid reuse */
  startTime: number;
}

/** Fields of /proc/<pid>/stat we need; `comm` may hold spaces and parentheses, so split after the last ')'. */
export function readStat(pid: number): ProcessStat | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  const [state, ppid, pgid, sid, startTime] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3]), Number(fields[19])];
  if (state === undefined || ![ppid, pgid, sid, startTime].every(Number.isInteger)) return undefined;
  return { pid, state, ppid, pgid, sid, startTime };
}

/** Alive = exists and is not a zombie (a zombie has exited; it only waits for its parent to reap it). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return raw.split("\0").filter((part) => part !== "");
  } catch {
    return undefined;
  }
}

export function readEnviron(pid: number): Map<string, string> | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  for (const entry of raw.split("\0")) {
    const at = entry.indexOf("=");
    if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return env;
}

export function listPids(): number[] {
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  return names.filter((name) => /^\d+$/.test(name)).map(Number);
}

/** Live processes whose environment holds `name=value` (inherited markers survive setsid and double forks). */
export function findProcessesWithEnv(name: string, value: string): number[] {
  const self = process.pid;
  return listPids().filter((pid) => pid !== self && isAlive(pid) && readEnviron(pid)?.get(name) === value);
}

/** Live members of process group `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  return listPids().filter((pid) => {
    const stat = readStat(pid);
    return stat !== undefined && stat.pgid === pgid && stat.state !== "Z" && stat.state !== "X";
  });
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // ESRCH: already gone; EPERM: not ours to end (reported as a survivor by the caller)
  }
}

/** Ref'd on purpose: a caller awaits these bounded waits, and the process must not exit under it. */
async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(done: () => boolean, deadlineMs: number): Promise<boolean> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() >= until) return false;
    await sleep(25);
  }
}

/**
 * SIGTERM to the group, wait up to `graceMs`, SIGKILL to the group, wait a little more.
 * Returns the members still alive at the end (normally none).
 */
export async function killProcessGroup(pgid: number, graceMs: number): Promise<number[]> {
  if (pgid <= 1 || pgid === process.pid) return [];
  signal(-pgid, "SIGTERM");
  if (await waitUntil(() => processGroupMembers(pgid).length === 0, graceMs)) return [];
  signal(-pgid, "SIGKILL");
  await waitUntil(() => processGroupMembers(pgid).length === 0, 2_000);
  return processGroupMembers(pgid);
}

/**
 * Ends processes that carry `name=value` in their environment: SIGTERM, grace, SIGKILL. The marker
 * is checked again right before each signal so a reused pid is never hit. Returns survivors.
 */
export async function killMarkedProcesses(name: string, value: string, graceMs: number): Promise<number[]> {
  const marked = (): number[] => findProcessesWithEnv(name, value);
  const first = marked();
  if (first.length === 0) return [];
  for (const pid of first) signal(pid, "SIGTERM");
  if (await waitUntil(() => marked().length === 0, graceMs)) return [];
  for (const pid of marked()) signal(pid, "SIGKILL");
  await waitUntil(() => marked().length === 0, 2_000);
  return marked();
}
