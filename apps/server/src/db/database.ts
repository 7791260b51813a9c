import pg from "pg";
import { withDeadline } from "../lib/deadline.js";
import { describeError } from "../lib/errors.js";
import { connectionError, parseDatabaseUrl } from "./connect.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded.js";
import { LogFile } from "./log-file.js";
import { migrate } from "./migrate.js";

export interface Database {
  url: string;
  pool: pg.Pool;
  /** the embedded server when kodo started one; undefined with DATABASE_URL */
  embedded: EmbeddedPostgres | undefined;
  /** Ends the pool, then stops the embedded server. Idempotent, bounded in time. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** an external Postgres (config.databaseUrl, from DATABASE_URL); no embedded server then */
  databaseUrl?: string | undefined;
  dataDir: string;
  logFile: string;
}

/** Pool settings: every wait bounded, so a stuck database shows up as an error, not a hang. */
export const POOL_SETTINGS = {
  max: 10,
  idleTimeoutMillis: 30_000,
  connectionTimeoutMillis: 10_000,
  /** server-side, per connection */
  statementTimeoutMs: 60_000,
  lockTimeoutMs: 30_000,
  idleInTransactionSessionTimeoutMs: 60_000,
  /** how long close() waits for checked-out clients before it stops the server anyway */
  endTimeoutMs: 10_000,
} as const;

function createPool(url: string, log: LogFile): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SETTINGS.max,
    idleTimeoutMillis: POOL_SETTINGS.idleTimeoutMillis,
    connectionTimeoutMillis: POOL_SETTINGS.connectionTimeoutMillis,
    statement_timeout: POOL_SETTINGS.statementTimeoutMs,
    lock_timeout: POOL_SETTINGS.lockTimeoutMs,
    idle_in_transaction_session_timeout: POOL_SETTINGS.idleInTransactionSessionTimeoutMs,
    application_name: "kodo",
    keepAlive: true,
  });
  // An idle client that loses its connection emits here; unhandled it would crash the process.
  // The next query on the pool gets a fresh connection (or a clear error).
  pool.on("error", (error) => log.note(`pool: idle connection lost: ${describeError(error)}`));
  return pool;
}

/**
 * Opens kodo's database: the external one when `databaseUrl` is given, else the embedded server
 * on `dataDir` (started here). Runs the migrations, then builds the pool. Any failure leaves
 * nothing running and throws a KodoError (CONFIG_INVALID, DB_UNAVAILABLE, MIGRATION_MISMATCH).
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const log = new LogFile(options.logFile);
  let embedded: EmbeddedPostgres | undefined;
  let url: string;
  if (options.databaseUrl !== undefined && options.databaseUrl !== "") {
    parseDatabaseUrl(options.databaseUrl);
    url = options.databaseUrl;
  } else {
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, logFile: options.logFile });
    url = embedded.url;
  }
  let pool: pg.Pool | undefined;
  try {
    await migrate(url);
    pool = createPool(url, log);
    await pool.query("SELECT 1").catch((error: unknown) => {
      throw connectionError(error, url, POOL_SETTINGS.connectionTimeoutMillis);
    });
  } catch (error) {
    await pool?.end().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
  const openPool = pool;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await withDeadline(openPool.end(), POOL_SETTINGS.endTimeoutMs, "DB_UNAVAILABLE", "ending the database pool");
      } catch (error) {
        // A client never released: stopping the server below disconnects it anyway.
        log.note(`close: ${describeError(error)}`);
      }
      await embedded?.stop();
    })();
    return closing;
  };
  return { url, pool: openPool, embedded, close };
}

/**
 * Runs `fn` in one transaction on one pooled client: BEGIN, COMMIT on success, ROLLBACK on any
 * error (which is rethrown). The client is always released; one whose ROLLBACK failed is
 * destroyed rather than returned to the pool.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      broken = rollbackError instanceof Error ? rollbackError : new Error(describeError(rollbackError));
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
