import { readFile, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { childPids, isRunning, pollUntil, processInfo, signal, type ProcessInfo } from "./proc.js";

/** The first lines of DATADIR/postmaster.pid (see PostgreSQL's pidfile.h). */
export interface PostmasterLock {
  pid: number;
  dataDir: string;
  port: number | undefined;
  /** "starting" | "ready" | "stopping" | "standby" (padded in the file; trimmed here) */
  status: string | undefined;
}

export function postmasterPidPath(dataDir: string): string {
  return path.join(dataDir, "postmaster.pid");
}

export async function readPostmasterLock(dataDir: string): Promise<PostmasterLock | undefined> {
  let text: string;
  try {
    text = await readFile(postmasterPidPath(dataDir), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new KodoError("DB_UNAVAILABLE", `cannot read ${postmasterPidPath(dataDir)}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  // A half-written file (a postmaster dying while it starts) has no usable pid: treat it as stale.
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, dataDir: lines[1] ?? "", port: undefined, status: undefined };
  const port = Number(lines[3]);
  return {
    pid,
    dataDir: lines[1] ?? "",
    port: Number.isInteger(port) && port > 0 ? port : undefined,
    status: lines[7]?.trim() || undefined,
  };
}

/** Is `info` a postmaster serving `dataDir`? Decided on the binary name and the working directory or `-D`. */
export async function isPostmasterOf(info: ProcessInfo, dataDir: string): Promise<boolean> {
  const executable = info.argv[0];
  if (executable === undefined || path.basename(executable) !== "postgres") return false;
  const wanted = await realpath(dataDir).catch(() => path.resolve(dataDir));
  if (info.cwd !== undefined && info.cwd === wanted) return true;
  const flag = info.argv.indexOf("-D");
  const argDir = flag >= 0 ? info.argv[flag + 1] : undefined;
  if (argDir === undefined) return false;
  return (await realpath(argDir).catch(() => path.resolve(argDir))) === wanted;
}

export interface StopTimeouts {
  /** how long a fast shutdown (SIGINT) may take before SIGKILL */
  gracefulMs: number;
  /** how long to wait for the processes to vanish after SIGKILL */
  killMs: number;
}

/**
 * Stops a postmaster that is not (or no longer) our child: SIGINT (fast shutdown: disconnects
 * clients, checkpoints) → wait → SIGKILL of it and its children → wait. Then removes a pid file
 * that still names it (a SIGKILLed postmaster leaves one behind). Throws DB_UNAVAILABLE when even
 * SIGKILL does not clear it within the deadline.
 */
export async function terminatePostmaster(pid: number, dataDir: string, timeouts: StopTimeouts): Promise<"graceful" | "killed"> {
  const children = await childPids(pid);
  signal(pid, "SIGINT");
  let how: "graceful" | "killed" = "graceful";
  if (!(await pollUntil(async () => !(await isRunning(pid)), timeouts.gracefulMs))) {
    how = "killed";
    const current = await childPids(pid);
    for (const child of new Set([...children, ...current])) {
      const info = await processInfo(child);
      // Only postgres processes that are still its children (a pid may have been reused meanwhile).
      if (info !== undefined && info.ppid === pid) signal(child, "SIGKILL");
    }
    signal(pid, "SIGKILL");
  }
  const gone = await pollUntil(async () => {
    if (await isRunning(pid)) return false;
    for (const child of children) {
      const info = await processInfo(child);
      if (info !== undefined && info.state !== "Z" && info.state !== "X" && path.basename(info.argv[0] ?? "").startsWith("postgres")) return false;
    }
    return true;
  }, timeouts.killMs);
  if (!gone) {
    throw new KodoError(
      "DB_UNAVAILABLE",
      `the old embedded Postgres (pid ${pid}) of ${dataDir} did not stop even after SIGKILL; ` +
        `kill it and its children by hand (ps -o pid,ppid,cmd -u postgres), then start kodo again`,
      { details: { pid, dataDir } },
    );
  }
  await removeLockIfNamed(dataDir, pid);
  return how;
}

/** Removes DATADIR/postmaster.pid, but only while it still names `pid` (never a newer server's lock). */
export async function removeLockIfNamed(dataDir: string, pid: number): Promise<void> {
  const lock = await readPostmasterLock(dataDir);
  if (lock !== undefined && lock.pid === pid) await rm(postmasterPidPath(dataDir), { force: true });
}
