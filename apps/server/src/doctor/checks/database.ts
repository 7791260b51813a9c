/** The database: reachable, kodo's migrations applied, DBOS's system tables present and current. */
import { allMigrations } from "@dbos-inc/dbos-sdk/internal/sysdb_migrations/internal/migrations";
import { MIGRATIONS_DIR, readMigrations } from "../../db/migrate.js";
import type { DoctorContext, DoctorDb } from "../context.js";
import { fail, pass, warn, type Finding } from "../types.js";

/** Runs `check` with the doctor's database connection; without one, says it could not look. */
export async function usingDatabase(context: DoctorContext, what: string, check: (db: DoctorDb) => Promise<Finding>): Promise<Finding> {
  const state = await context.database();
  if (state.kind !== "connected") return warn(`${what} not checked: no database connection (see the database check)`, "fix what the database check reports first");
  return check(state.db);
}

export async function checkDatabase(context: DoctorContext): Promise<Finding> {
  const state = await context.database();
  switch (state.kind) {
    case "absent":
      return warn(`no database to check: ${state.reason}`, "start kodo serve (it starts the embedded Postgres), or set DATABASE_URL to your Postgres");
    case "unreachable":
      if (!state.expected) {
        return warn(`the database ${state.url} named by ${state.source} does not answer (${state.error})`, "start kodo serve; with an external database set DATABASE_URL", { url: state.url, source: state.source });
      }
      return fail(`cannot reach Postgres at ${state.url} (from ${state.source}): ${state.error}`, "start that Postgres, or fix the URL (DATABASE_URL)", { url: state.url, source: state.source });
    case "connected": {
      const version = (await state.db.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "?";
      return pass(`Postgres ${version} answers at ${state.url} (from ${state.source})`, { url: state.url, source: state.source, serverVersion: version });
    }
  }
}

export async function checkMigrations(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "kodo's migrations", async (db) => {
    const files = await readMigrations(MIGRATIONS_DIR);
    const table = await db.query<{ present: boolean }>(`SELECT to_regclass('kodo.schema_migrations') IS NOT NULL AS present`);
    if (table.rows[0]?.present !== true) {
      return warn(`this database has no kodo schema yet (${files.length} migrations to apply)`, "kodo serve applies the migrations at start");
    }
    const applied = new Map((await db.query<{ name: string; sha256: string }>("SELECT name, sha256 FROM kodo.schema_migrations")).rows.map((row) => [row.name, row.sha256]));
    const known = new Set(files.map((file) => file.name));
    const unknown = [...applied.keys()].filter((name) => !known.has(name)).sort();
    const changed = files.filter((file) => applied.has(file.name) && applied.get(file.name) !== file.sha256).map((file) => file.name);
    const pending = files.filter((file) => !applied.has(file.name)).map((file) => file.name);
    const details = { applied: applied.size, files: files.length, unknown, changed, pending };
    if (unknown.length > 0) {
      return fail(`the database has migrations this kodo does not know (${unknown.join(", ")}): a newer kodo migrated it`, "upgrade kodo (every process of a release), or use another database", details);
    }
    if (changed.length > 0) {
      return fail(`applied migrations changed since (${changed.join(", ")}): kodo serve refuses to start (MIGRATION_MISMATCH)`, "restore those files as they were applied; put changes in a new migration", details);
    }
    if (pending.length > 0) {
      return warn(`${pending.length} of ${files.length} migrations not applied yet (${pending.join(", ")}): the database was migrated by an older kodo`, "restart kodo serve with this build: it applies them at start", details);
    }
    return pass(`all ${files.length} kodo migrations applied (latest ${files.at(-1)?.name ?? "-"})`, details);
  });
}

/** The tables kodo reads and DBOS cannot work without. */
const DBOS_TABLES = ["workflow_status", "operation_outputs", "notifications", "workflow_events", "queues", "dbos_migrations"] as const;

export async function checkDbosSchema(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "DBOS's system tables", async (db) => {
    const present = await db.query<{ name: string; present: boolean }>(
      `SELECT name, to_regclass('dbos.' || name) IS NOT NULL AS present FROM unnest($1::text[]) AS name`,
      [DBOS_TABLES],
    );
    const missing = present.rows.filter((row) => !row.present).map((row) => `dbos.${row.name}`);
    if (missing.length > 0) {
      return fail(`DBOS's system tables are missing (${missing.join(", ")})`, "kodo serve migrates DBOS's schema at start (once, under a lock); start it with this database", { missing });
    }
    const expected = allMigrations("dbos").length;
    const version = Number((await db.query<{ version: string }>("SELECT max(version)::text AS version FROM dbos.dbos_migrations")).rows[0]?.version ?? 0);
    const details = { schemaVersion: version, expected };
    if (version < expected) {
      return warn(`DBOS's schema is at version ${version}, this kodo's DBOS expects ${expected}`, "restart kodo serve with this build: it migrates DBOS's schema at start", details);
    }
    if (version > expected) {
      return warn(`DBOS's schema is at version ${version}, newer than this kodo's DBOS (${expected}): a newer release migrated it`, "run one kodo release for every process on this database", details);
    }
    return pass(`DBOS's system tables present, schema version ${version}`, details);
  });
}
