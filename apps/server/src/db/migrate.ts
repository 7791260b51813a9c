import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { KodoError, describeError, isKodoError } from "../lib/errors.js";
import { connectClient } from "./connect.js";

/**
 * apps/server/migrations, found from this module's own location: src/db/migrate.ts and
 * dist/db/migrate.js are both two levels below apps/server.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

/** pg_advisory_lock key of kodo's migrations ("kodomigr" as a bigint): one migrator at a time. */
const LOCK_KEY = "7741516714212943730";

export const MIGRATE_TIMEOUTS = {
  connectMs: 10_000,
  /** waiting for another process's migration run to finish */
  lockMs: 60_000,
  /** one statement of a migration */
  statementMs: 300_000,
} as const;

export interface Migration {
  name: string;
  sql: string;
  sha256: string;
}

export interface MigrateOptions {
  /** defaults to MIGRATIONS_DIR; tests point it elsewhere */
  migrationsDir?: string;
}

/** The *.sql files of `directory`, in name order (code-unit order, so 010 follows 009). */
export async function readMigrations(directory: string): Promise<Migration[]> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith(".sql")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    throw new KodoError("INTERNAL", `cannot read the migrations folder ${directory}: ${describeError(error)}`, { cause: error });
  }
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(directory, name));
      return { name, sql: bytes.toString("utf8"), sha256: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
}

const BOOKKEEPING = `
CREATE SCHEMA IF NOT EXISTS kodo;
CREATE TABLE IF NOT EXISTS kodo.schema_migrations (
  name       text PRIMARY KEY,
  sha256     text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`;

function checkHistory(applied: Map<string, string>, migrations: Migration[]): void {
  const known = new Set(migrations.map((migration) => migration.name));
  for (const name of applied.keys()) {
    if (!known.has(name)) {
      throw new KodoError(
        "MIGRATION_MISMATCH",
        `the database has migration ${name}, which this kodo does not know: it was migrated by a newer kodo. Upgrade kodo, or use another database`,
        { details: { migration: name } },
      );
    }
  }
  for (const migration of migrations) {
    const recorded = applied.get(migration.name);
    if (recorded !== undefined && recorded !== migration.sha256) {
      throw new KodoError(
        "MIGRATION_MISMATCH",
        `migration ${migration.name} changed after it was applied (applied sha256 ${recorded.slice(0, 12)}…, file now ${migration.sha256.slice(0, 12)}…). ` +
          `Never edit an applied migration: restore the file and add a new migration for the change`,
        { details: { migration: migration.name, applied: recorded, file: migration.sha256 } },
      );
    }
  }
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query(migration.sql);
    await client.query("INSERT INTO kodo.schema_migrations (name, sha256) VALUES ($1, $2)", [migration.name, migration.sha256]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    const code = (error as { code?: unknown }).code;
    const lostConnection = typeof code === "string" && (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03");
    throw new KodoError(lostConnection ? "DB_UNAVAILABLE" : "INTERNAL", `migration ${migration.name} failed and was rolled back: ${describeError(error)}`, {
      retryable: lostConnection,
      cause: error,
      details: { migration: migration.name, ...(typeof code === "string" ? { pgCode: code } : {}) },
    });
  }
}

/**
 * Applies the migrations not yet applied, in name order, each in its own transaction, and records
 * each in kodo.schema_migrations(name, sha256, applied_at). A session advisory lock makes
 * concurrent callers (several processes starting at once) take turns; the later ones find nothing
 * to do. An applied migration whose file changed, or an applied one this code does not know,
 * is MIGRATION_MISMATCH and nothing is applied.
 */
export async function migrate(url: string, options: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrations = await readMigrations(options.migrationsDir ?? MIGRATIONS_DIR);
  const client = await connectClient(url, {
    timeoutMs: MIGRATE_TIMEOUTS.connectMs,
    statementTimeoutMs: MIGRATE_TIMEOUTS.statementMs,
    applicationName: "kodo-migrate",
  });
  try {
    // lock_timeout bounds the wait for the advisory lock (a heavyweight lock) and for table locks.
    await client.query("SELECT set_config('lock_timeout', $1, false)", [`${MIGRATE_TIMEOUTS.lockMs}ms`]);
    try {
      await client.query("SELECT pg_advisory_lock($1::bigint)", [LOCK_KEY]);
    } catch (error) {
      throw new KodoError("DB_UNAVAILABLE", `another process held kodo's migration lock for more than ${MIGRATE_TIMEOUTS.lockMs} ms: ${describeError(error)}`, {
        retryable: true,
        cause: error,
      });
    }
    try {
      await client.query(BOOKKEEPING);
      const rows = await client.query<{ name: string; sha256: string }>("SELECT name, sha256 FROM kodo.schema_migrations");
      const applied = new Map(rows.rows.map((row) => [row.name, row.sha256]));
      checkHistory(applied, migrations);
      const done: string[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.name)) continue;
        await applyOne(client, migration);
        done.push(migration.name);
      }
      return { applied: done };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [LOCK_KEY]).catch(() => undefined);
    }
  } catch (error) {
    if (isKodoError(error)) throw error;
    throw new KodoError("DB_UNAVAILABLE", `migrating ${new URL(url).pathname.slice(1) || "the database"} failed: ${describeError(error)}`, { retryable: true, cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}
