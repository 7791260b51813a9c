import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, withTransaction, type Database } from "../../src/db/database.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.js";
import { isRunning, killPostgresOf, tempRoot } from "./helpers.js";

describe("openDatabase", () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;

  beforeAll(async () => {
    root = await tempRoot("database");
  });

  afterAll(async () => {
    await killPostgresOf(root.dataDir);
    await root.remove();
  });

  it("without a URL: starts the embedded server, migrates, pools; close() stops it all", async () => {
    const database = await openDatabase({ dataDir: root.dataDir, logFile: root.logFile });
    try {
      expect(database.embedded).toBeDefined();
      expect(database.url).toBe(database.embedded?.url);
      const { rows } = await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM kodo.schema_migrations");
      expect(rows[0]?.n).toBeGreaterThan(0);
      const settings = await database.pool.query<{ statement_timeout: string; idle: string }>(
        "SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('idle_in_transaction_session_timeout') AS idle",
      );
      expect(settings.rows[0]).toEqual({ statement_timeout: "1min", idle: "1min" });
    } finally {
      await Promise.all([database.close(), database.close()]);
    }
    expect(await isRunning(database.embedded?.pid ?? 0)).toBe(false);
  });

  describe("with DATABASE_URL (an external server)", () => {
    let external: EmbeddedPostgres;
    let database: Database;

    beforeAll(async () => {
      external = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
      database = await openDatabase({ databaseUrl: external.url, dataDir: "/nonexistent/never-used", logFile: root.logFile });
    });

    afterAll(async () => {
      await database?.close();
      await external?.stop();
    });

    it("uses it, starts no server of its own, and leaves it running on close()", async () => {
      expect(database.embedded).toBeUndefined();
      expect(database.url).toBe(external.url);
      expect((await database.pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    });

    it("withTransaction commits, rolls back on error, and always releases the client", async () => {
      await database.pool.query("CREATE TABLE IF NOT EXISTS tx_probe (v int)");
      await withTransaction(database.pool, async (client) => {
        await client.query("INSERT INTO tx_probe VALUES (1)");
      });
      await expect(
        withTransaction(database.pool, async (client) => {
          await client.query("INSERT INTO tx_probe VALUES (2)");
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      await expect(withTransaction(database.pool, (client) => client.query("SELECT no_such_column FROM tx_probe"))).rejects.toMatchObject({ code: "42703" });
      expect((await database.pool.query("SELECT v FROM tx_probe ORDER BY v")).rows).toEqual([{ v: 1 }]);
      expect(database.pool.totalCount - database.pool.idleCount).toBe(0);
      const value = await withTransaction(database.pool, async (client) => (await client.query<{ v: number }>("SELECT 7 AS v")).rows[0]?.v);
      expect(value).toBe(7);
    });

    it("a wrong password is DB_UNAVAILABLE saying so, and leaves nothing open", async () => {
      const wrong = external.url.replace(":kodo@", ":wrong@");
      await expect(openDatabase({ databaseUrl: wrong, dataDir: root.dataDir, logFile: root.logFile })).rejects.toMatchObject({
        code: "DB_UNAVAILABLE",
        message: expect.stringContaining("password authentication failed"),
      });
    });

    it("a database that does not exist is DB_UNAVAILABLE saying so", async () => {
      const missing = external.url.replace(/\/kodo$/, "/missing_db");
      await expect(openDatabase({ databaseUrl: missing, dataDir: root.dataDir, logFile: root.logFile })).rejects.toMatchObject({
        code: "DB_UNAVAILABLE",
        message: expect.stringContaining('database "missing_db" does not exist'),
      });
    });
  });

  it("a DATABASE_URL that is not a postgres URL is CONFIG_INVALID, at once", async () => {
    for (const bogus of ["not a url", "mysql://u:p@127.0.0.1/x"]) {
      await expect(openDatabase({ databaseUrl: bogus, dataDir: root.dataDir, logFile: root.logFile })).rejects.toMatchObject({
        name: "KodoError",
        code: "CONFIG_INVALID",
      });
    }
  });

  it("a DATABASE_URL where nothing listens is DB_UNAVAILABLE within seconds, and does not leak the password", async () => {
    const t0 = performance.now();
    const error: unknown = await openDatabase({ databaseUrl: "postgres://kodo:s3cret@127.0.0.1:1/kodo", dataDir: root.dataDir, logFile: root.logFile }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "DB_UNAVAILABLE", retryable: true });
    expect((error as Error).message).not.toContain("s3cret");
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});
