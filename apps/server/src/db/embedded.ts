import { mkdir } from "node:fs/promises";
import path from "node:path";
import { KodoError, describeError, isKodoError } from "../lib/errors.js";
import { connectClient } from "./connect.js";
import { EMBEDDED_PASSWORD, EMBEDDED_USER, prepareDataDir } from "./data-dir.js";
import { readState, writeState } from "./embedded-state.js";
import { findFreePort, isPortFree } from "./free-port.js";
import { launchPostmaster, LaunchError, postgresBinaries, type Launched } from "./launch.js";
import { LogFile } from "./log-file.js";
import { terminatePostmaster } from "./postmaster.js";
import type { RunAs } from "./run-as.js";
import { clearStalePostmaster } from "./stale.js";
import { withStartLock } from "./start-lock.js";

/** A running embedded PostgreSQL server, owned by this process. */
export interface EmbeddedPostgres {
  /** postgres://…/kodo — kodo's database */
  url: string;
  /** postgres://…/postgres — the maintenance database */
  adminUrl: string;
  port: number;
  /** the postmaster's pid */
  pid: number;
  /** Fast shutdown (SIGINT), SIGKILL after a deadline. Idempotent, bounded in time. */
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  dataDir: string;
  logFile: string;
  /** a fixed port (must be free); default: the port of the last start if free, else a free one */
  port?: number;
}

const DATABASE = "kodo";

/** Every wait in the lifecycle has a deadline; these are they. */
export const EMBEDDED_TIMEOUTS = {
  initdbMs: 60_000,
  /** postmaster ready, crash recovery after an unclean stop included */
  startMs: 60_000,
  stopGracefulMs: 15_000,
  stopKillMs: 5_000,
  connectMs: 10_000,
  /** waiting for another process that is starting the same data dir */
  startLockMs: 180_000,
} as const;

const STOP_TIMEOUTS = { gracefulMs: EMBEDDED_TIMEOUTS.stopGracefulMs, killMs: EMBEDDED_TIMEOUTS.stopKillMs };

function urlFor(port: number, database: string): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function choosePort(requested: number | undefined, remembered: number | undefined, tried: Set<number>): Promise<number> {
  if (requested !== undefined) {
    if (!(await isPortFree(requested))) throw new KodoError("DB_UNAVAILABLE", `port ${requested} for embedded Postgres is in use; choose another or leave it unset`);
    return requested;
  }
  if (remembered !== undefined && !tried.has(remembered) && (await isPortFree(remembered))) return remembered;
  return findFreePort();
}

/** Launches on the requested, remembered or a free port; retries when another process takes the port first. */
async function launchOnSomePort(
  binary: string,
  dataDir: string,
  account: RunAs,
  log: LogFile,
  requested: number | undefined,
): Promise<Launched & { port: number }> {
  const remembered = (await readState(dataDir))?.port;
  const tried = new Set<number>();
  for (;;) {
    const port = await choosePort(requested, remembered, tried);
    tried.add(port);
    try {
      const launched = await launchPostmaster({ binary, dataDir, port, account, log, timeoutMs: EMBEDDED_TIMEOUTS.startMs });
      return { ...launched, port };
    } catch (error) {
      const retry = error instanceof LaunchError && error.portInUse && requested === undefined && tried.size < 3;
      if (!retry) throw error;
    }
  }
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = await connectClient(adminUrl, { timeoutMs: EMBEDDED_TIMEOUTS.connectMs, statementTimeoutMs: 30_000 });
  try {
    const existing = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${DATABASE}`);
      } catch (error) {
        // Someone else created it meanwhile: that is the outcome we wanted.
        const code = (error as { code?: unknown }).code;
        if (code !== "42P04" && code !== "23505") throw error;
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

function handleFor(launched: Launched & { port: number }, dataDir: string, log: LogFile): EmbeddedPostgres {
  const { child, pid, port } = launched;
  const stopOnExit = (): void => {
    // Last resort when the process exits without stop(): ask for a fast shutdown (must be synchronous).
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(pid, "SIGINT");
    } catch {
      // already gone
    }
  };
  process.on("exit", stopOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off("exit", stopOnExit);
      const how = await terminatePostmaster(pid, dataDir, STOP_TIMEOUTS);
      child.removeAllListeners();
      log.note(`postmaster ${pid} stopped (${how})`);
    })();
    return stopping;
  };
  return { url: urlFor(port, DATABASE), adminUrl: urlFor(port, "postgres"), port, pid, stop };
}

/**
 * Starts kodo's embedded PostgreSQL on `dataDir` (initdb on first use) and makes sure database
 * `kodo` exists. An orphaned server left by a crashed kodo process is stopped first; a server whose
 * kodo process still runs is left alone. Every failure is a KodoError DB_UNAVAILABLE whose message
 * says what to do; every wait has a deadline (EMBEDDED_TIMEOUTS).
 */
export async function startEmbeddedPostgres(options: StartEmbeddedOptions): Promise<EmbeddedPostgres> {
  if (process.platform !== "linux") {
    throw new KodoError("DB_UNAVAILABLE", "kodo's embedded Postgres needs Linux (it inspects /proc); set DATABASE_URL to use another Postgres");
  }
  const dataDir = path.resolve(options.dataDir);
  const log = new LogFile(options.logFile);
  const { postgres: binary } = await postgresBinaries();
  await mkdir(path.dirname(dataDir), { recursive: true });
  const server = await withStartLock(dataDir, EMBEDDED_TIMEOUTS.startLockMs, async () => {
    await clearStalePostmaster(dataDir, log, STOP_TIMEOUTS);
    const account = await prepareDataDir(dataDir, binary, log, EMBEDDED_TIMEOUTS.initdbMs);
    const started = performance.now();
    const launched = await launchOnSomePort(binary, dataDir, account, log, options.port);
    log.note(`postmaster ${launched.pid} ready on 127.0.0.1:${launched.port} after ${Math.round(performance.now() - started)} ms`);
    return handleFor(launched, dataDir, log);
  });
  try {
    await writeState(dataDir, { port: server.port, ownerPid: process.pid, postmasterPid: server.pid, startedAt: new Date().toISOString() });
    await ensureDatabase(server.adminUrl);
  } catch (error) {
    await server.stop().catch(() => undefined);
    if (isKodoError(error)) throw error;
    throw new KodoError("DB_UNAVAILABLE", `embedded Postgres started but could not be prepared (state file, database ${DATABASE}): ${describeError(error)}`, { cause: error });
  }
  return server;
}
