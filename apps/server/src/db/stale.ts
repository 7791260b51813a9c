import { rm } from "node:fs/promises";
import { KodoError } from "../lib/errors.js";
import { readState } from "./embedded-state.js";
import type { LogFile } from "./log-file.js";
import { isPostmasterOf, postmasterPidPath, readPostmasterLock, terminatePostmaster, type StopTimeouts } from "./postmaster.js";
import { isRunning, processInfo } from "./proc.js";

/**
 * Makes DATADIR startable after an unclean end of the kodo process that ran its server.
 *
 * When the owning Node process is SIGKILLed, its postmaster lives on (orphaned, holding the port
 * and postmaster.pid) and a new postmaster refuses the data directory. So, given the pid file:
 * - its pid is not running (or a zombie) → the file is stale: remove it;
 * - its pid runs but is not a postgres of this data directory (pid reused) → stale: remove it,
 *   and never signal that stranger;
 * - it is this data directory's postmaster and the kodo process that started it still runs (it is
 *   still the postmaster's parent) → DB_UNAVAILABLE: two kodo processes must not share one server
 *   this way;
 * - otherwise it is an orphan → stop it (fast shutdown, SIGKILL after a deadline).
 */
export async function clearStalePostmaster(dataDir: string, log: LogFile, timeouts: StopTimeouts): Promise<void> {
  const lock = await readPostmasterLock(dataDir);
  if (lock === undefined) return;
  const info = lock.pid > 0 ? await processInfo(lock.pid) : undefined;
  if (info === undefined || !(await isRunning(lock.pid))) {
    log.note(`removing stale ${postmasterPidPath(dataDir)} (pid ${lock.pid} is not running)`);
    await rm(postmasterPidPath(dataDir), { force: true });
    return;
  }
  if (!(await isPostmasterOf(info, dataDir))) {
    log.note(`removing stale ${postmasterPidPath(dataDir)} (pid ${lock.pid} is now ${info.argv[0] ?? "another process"}, not a postgres of this directory)`);
    await rm(postmasterPidPath(dataDir), { force: true });
    return;
  }
  const state = await readState(dataDir);
  const owner = state?.ownerPid;
  if (owner !== undefined && info.ppid === owner && (await isRunning(owner))) {
    const who = owner === process.pid ? "this process" : `kodo process ${owner}`;
    throw new KodoError(
      "DB_UNAVAILABLE",
      `the embedded Postgres of ${dataDir} (pid ${lock.pid}, port ${lock.port ?? "?"}) is already run by ${who}; ` +
        `stop that process first, or connect to it with DATABASE_URL instead of starting another`,
      { retryable: true, details: { dataDir, pid: lock.pid, ownerPid: owner } },
    );
  }
  log.note(`stopping orphaned postmaster ${lock.pid} of ${dataDir} (its kodo process is gone)`);
  const how = await terminatePostmaster(lock.pid, dataDir, timeouts);
  log.note(`orphaned postmaster ${lock.pid} stopped (${how})`);
}
