import { readFile, readdir, readlink } from "node:fs/promises";

/**
 * What Linux's /proc says about one process. Only what the embedded-Postgres lifecycle needs:
 * enough to tell "a postgres of this data directory" from a stranger that reused the pid.
 */
export interface ProcessInfo {
  pid: number;
  /** one-letter state from /proc/<pid>/stat; "Z" (zombie) and "X" (dead) count as not running */
  state: string;
  ppid: number;
  argv: string[];
  /** the working directory (a postmaster chdirs into its data directory); undefined if unreadable */
  cwd: string | undefined;
}

/** Reads /proc/<pid>; undefined when there is no such process. */
export async function processInfo(pid: number): Promise<ProcessInfo | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid …": comm may contain spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0] ?? "?";
  const ppid = Number(fields[1] ?? "0");
  const argv = await readFile(`/proc/${pid}/cmdline`, "utf8")
    .then((text) => text.split("\0").filter((part) => part !== ""))
    .catch(() => []);
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  return { pid, state, ppid, argv, cwd };
}

/** True while the process exists and is not a zombie (an unreaped zombie holds nothing). */
export async function isRunning(pid: number): Promise<boolean> {
  const info = await processInfo(pid);
  return info !== undefined && info.state !== "Z" && info.state !== "X";
}

/** Pids whose parent is `ppid` (one scan of /proc, reading only each process's stat line). */
export async function childPids(ppid: number): Promise<number[]> {
  const entries = await readdir("/proc").catch(() => []);
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === ppid) children.push(Number(entry));
  }
  return children;
}

/** Sends a signal, ignoring "no such process" (the process may have just gone). */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Polls `check` every `intervalMs` until it is true (→ true) or `timeoutMs` passes (→ false). */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
