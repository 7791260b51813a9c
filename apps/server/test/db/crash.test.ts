import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.js";
import { readPostmasterLock } from "../../src/db/postmaster.js";
import { processInfo } from "../../src/db/proc.js";
import { isRunning, killChild, killPostgresOf, postgresOf, startChildServer, tempRoot, type ChildServer } from "./helpers.js";

async function run(url: string, sql: string, values: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

describe("embedded Postgres after its owner dies", () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;
  let child: ChildServer | undefined;
  let server: EmbeddedPostgres | undefined;

  beforeEach(async () => {
    root = await tempRoot("crash");
  });

  afterEach(async () => {
    if (child !== undefined) await killChild(child.child);
    await server?.stop();
    await killPostgresOf(root.dataDir);
    expect(await postgresOf(root.dataDir)).toEqual([]);
    await root.remove();
    child = undefined;
    server = undefined;
  });

  it("kill -9 of the owning node process: the orphan is stopped, a new server starts, data is kept", async () => {
    child = await startChildServer(root.dataDir, root.logFile);
    await run(child.url, "CREATE TABLE before_crash (note text)");
    await run(child.url, "INSERT INTO before_crash VALUES ($1)", ["written before kill -9"]);

    await killChild(child.child);
    // The trap: the postmaster outlives its owner, orphaned, still holding the pid file and port.
    expect(await isRunning(child.pid)).toBe(true);
    expect((await processInfo(child.pid))?.ppid).not.toBe(child.ownerPid);
    expect((await readPostmasterLock(root.dataDir))?.pid).toBe(child.pid);

    const t0 = performance.now();
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    const restartMs = performance.now() - t0;
    expect(server.pid).not.toBe(child.pid);
    expect(await isRunning(child.pid)).toBe(false);
    expect(await run(server.url, "SELECT note FROM before_crash")).toEqual([{ note: "written before kill -9" }]);
    console.info(`restart over an orphaned postmaster took ${Math.round(restartMs)} ms`);
  });

  it("does not take over a server whose kodo process is still alive", async () => {
    child = await startChildServer(root.dataDir, root.logFile);
    const t0 = performance.now();
    await expect(startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile })).rejects.toMatchObject({
      code: "DB_UNAVAILABLE",
      message: expect.stringContaining(`kodo process ${child.ownerPid}`),
    });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(await isRunning(child.pid)).toBe(true);
    expect(await run(child.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);

    // The owner shuts down cleanly when asked; its server goes with it.
    const exited = new Promise((resolve) => child?.child.once("exit", resolve));
    child.child.stdin?.write("stop\n");
    await exited;
    expect(await isRunning(child.pid)).toBe(false);
  });

  it("Ctrl-C (SIGINT to the terminal's process group) reaches kodo only: the database is still up for kodo's own shutdown", async () => {
    child = await startChildServer(root.dataDir, root.logFile);
    const exited = new Promise<number | null>((resolve) => child?.child.once("exit", resolve));
    process.kill(-(child.child.pid ?? 0), "SIGINT");
    const report = await child.lines.next();
    expect(JSON.parse(String(report.value))).toEqual({ sigint: "handled by kodo", query: "still up" });
    expect(await exited).toBe(0);
    expect(await isRunning(child.pid)).toBe(false);
  });

  it("two starts at once on a fresh data dir: one initdb, one server, the other start refused", async () => {
    const results = await Promise.allSettled([
      startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }),
      startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }),
    ]);
    const started = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const refused = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    expect(started).toHaveLength(1);
    server = started[0];
    expect(refused).toEqual([expect.objectContaining({ code: "DB_UNAVAILABLE", message: expect.stringContaining("already run by this process") })]);
    expect((await readFile(root.logFile, "utf8")).match(/initdb of /g)).toHaveLength(1);
  });

  it("refuses a second start in the same process while the first runs", async () => {
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    await expect(startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile })).rejects.toMatchObject({
      code: "DB_UNAVAILABLE",
      message: expect.stringContaining("this process"),
    });
    expect(await run(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("removes a stale pid file whose pid is dead or a stranger, and never signals the stranger", async () => {
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    await server.stop();
    const lockFile = path.join(root.dataDir, "postmaster.pid");
    const staleLock = (pid: number): string => `${pid}\n${root.dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready   \n`;

    // A pid that is not running.
    await writeFile(lockFile, staleLock(2_000_000_000));
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    await server.stop();

    // A live process that is not a postgres of this data dir: this very test process.
    await writeFile(lockFile, staleLock(process.pid));
    server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    expect(await run(server.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});
