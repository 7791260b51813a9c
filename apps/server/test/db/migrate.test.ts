import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.js";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../../src/db/migrate.js";
import { killPostgresOf, tempRoot } from "./helpers.js";

describe("migrate", () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;
  let server: EmbeddedPostgres;
  let databases = 0;

  /** A fresh, empty database on the shared test server; returns its URL. */
  async function freshDatabase(): Promise<string> {
    const name = `migrate_${++databases}`;
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return server.adminUrl.replace(/\/postgres$/, `/${name}`);
  }

  async function rows(url: string, sql: string): Promise<pg.QueryResultRow[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    root = await tempRoot("migrate");
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
  });

  afterAll(async () => {
    await server?.stop();
    await killPostgresOf(root.dataDir);
    await root.remove();
  });

  it("finds apps/server/migrations from src/ (and the same relative path from dist/)", async () => {
    expect(MIGRATIONS_DIR.replace(/\/$/, "").endsWith(path.join("apps", "server", "migrations"))).toBe(true);
    expect((await readMigrations(MIGRATIONS_DIR)).map((migration) => migration.name)).toContain("001_init.sql");
  });

  it("applies every migration once, records name and sha256, and is idempotent", async () => {
    const url = await freshDatabase();
    const files = await readMigrations(MIGRATIONS_DIR);
    expect(await migrate(url)).toEqual({ applied: files.map((file) => file.name) });
    expect(await migrate(url)).toEqual({ applied: [] });
    const recorded = await rows(url, "SELECT name, sha256, applied_at FROM kodo.schema_migrations ORDER BY name");
    expect(recorded.map((row) => [row["name"], row["sha256"]])).toEqual(files.map((file) => [file.name, file.sha256]));
    expect(recorded[0]?.["applied_at"]).toBeInstanceOf(Date);
    const tables = await rows(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'kodo' ORDER BY 1");
    expect(tables.map((row) => row["table_name"])).toEqual(
      expect.arrayContaining(["tasks", "runs", "events", "model_calls", "plan_approvals", "artifacts", "session_activity", "schema_migrations"]),
    );
  });

  it("two concurrent migrate calls on a fresh database both succeed and apply once", async () => {
    const url = await freshDatabase();
    const [a, b, c] = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    const appliedTotal = [a, b, c].flatMap((result) => result.applied);
    const files = (await readMigrations(MIGRATIONS_DIR)).map((file) => file.name);
    expect(appliedTotal.sort()).toEqual(files.sort());
    expect(await rows(url, "SELECT count(*)::int AS n FROM kodo.schema_migrations")).toEqual([{ n: files.length }]);
  });

  describe("with a migrations folder of its own", () => {
    let folder: string;

    beforeAll(async () => {
      folder = await mkdtemp(path.join(os.tmpdir(), "kodo-migrations-"));
      await cp(MIGRATIONS_DIR, folder, { recursive: true });
    });

    afterAll(async () => {
      await rm(folder, { recursive: true, force: true });
    });

    it("applies a new migration in name order and rolls back a failing one completely", async () => {
      const url = await freshDatabase();
      const existing = (await readMigrations(folder)).map((file) => file.name);
      await migrate(url, { migrationsDir: folder });
      const added = path.join(folder, "900_add.sql");
      const broken = path.join(folder, "901_broken.sql");
      await writeFile(added, "CREATE TABLE kodo.extra (id int);\n");
      await writeFile(broken, "CREATE TABLE kodo.half (id int);\nSELECT no_such_function();\n");
      try {
        await expect(migrate(url, { migrationsDir: folder })).rejects.toMatchObject({ code: "INTERNAL", message: expect.stringContaining("901_broken.sql") });
        const names = await rows(url, "SELECT name FROM kodo.schema_migrations ORDER BY name");
        expect(names.map((row) => row["name"])).toEqual([...existing, "900_add.sql"]);
        expect(await rows(url, "SELECT to_regclass('kodo.half') AS half")).toEqual([{ half: null }]);
      } finally {
        await rm(broken, { force: true });
        await rm(added, { force: true });
      }
    });

    it("refuses when an applied migration's file changed (MIGRATION_MISMATCH)", async () => {
      const url = await freshDatabase();
      await migrate(url, { migrationsDir: folder });
      const file = path.join(folder, "001_init.sql");
      const original = await readFile(file, "utf8");
      await writeFile(file, `${original}\n-- edited after it was applied\n`);
      try {
        await expect(migrate(url, { migrationsDir: folder })).rejects.toMatchObject({
          name: "KodoError",
          code: "MIGRATION_MISMATCH",
          message: expect.stringContaining("001_init.sql changed after it was applied"),
        });
      } finally {
        await writeFile(file, original);
      }
    });

    it("refuses a database migrated by a newer kodo (an applied migration with no file)", async () => {
      const url = await freshDatabase();
      const future = path.join(folder, "999_future.sql");
      await writeFile(future, "SELECT 1;\n");
      try {
        await migrate(url, { migrationsDir: folder });
      } finally {
        await rm(future, { force: true });
      }
      await expect(migrate(url, { migrationsDir: folder })).rejects.toMatchObject({ code: "MIGRATION_MISMATCH", message: expect.stringContaining("999_future.sql") });
    });
  });

  it("fails fast with DB_UNAVAILABLE when nothing listens", async () => {
    const t0 = performance.now();
    await expect(migrate("postgres://kodo:kodo@127.0.0.1:1/kodo")).rejects.toMatchObject({ code: "DB_UNAVAILABLE", message: expect.stringContaining("nothing accepts connections") });
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
