import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { startEmbeddedPostgres } from "../../src/db/embedded.js";
import { isRoot, killPostgresOf, postgresOf, tempRoot } from "./helpers.js";

/** Data directories kodo cannot use: each must fail fast with DB_UNAVAILABLE and a way out. */
describe("embedded Postgres on a data dir it cannot use", () => {
  let root: Awaited<ReturnType<typeof tempRoot>>;

  beforeEach(async () => {
    root = await tempRoot("access");
  });

  afterEach(async () => {
    await killPostgresOf(root.dataDir);
    expect(await postgresOf(root.dataDir)).toEqual([]);
    await root.remove();
  });

  async function expectUnavailable(start: () => Promise<unknown>, mention: string): Promise<void> {
    const t0 = performance.now();
    await expect(start()).rejects.toMatchObject({ name: "KodoError", code: "DB_UNAVAILABLE", message: expect.stringContaining(mention) });
    expect(performance.now() - t0).toBeLessThan(10_000);
  }

  it.skipIf(!isRoot)("a data dir owned by someone else (as root: not the postgres user)", async () => {
    const server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    await server.stop();
    await chown(root.dataDir, 0, 0);
    await expectUnavailable(() => startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }), "belongs to uid 0");
  });

  it.skipIf(!isRoot)("a data dir below a folder the postgres user cannot enter (like /root)", async () => {
    const closed = path.join(root.dir, "closed");
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    const dataDir = path.join(closed, "pg", "data");
    await expectUnavailable(() => openDatabase({ dataDir, logFile: root.logFile }), `cannot enter ${closed}`);
  });

  it("a data dir that is not empty and has no PG_VERSION is not touched", async () => {
    await mkdir(root.dataDir, { recursive: true });
    await writeFile(path.join(root.dataDir, "precious.txt"), "not a database\n");
    await expectUnavailable(() => startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }), "could not create the embedded Postgres data directory");
  });

  it("a data dir path that is a file", async () => {
    await mkdir(path.dirname(root.dataDir), { recursive: true });
    await writeFile(root.dataDir, "a file, not a directory\n");
    await expectUnavailable(() => startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }), root.dataDir);
  });

  it("an initialised data dir with unreadable files fails with the server's own words", async () => {
    const server = await startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile });
    await server.stop();
    await chmod(path.join(root.dataDir, "global"), 0o000);
    await expectUnavailable(() => startEmbeddedPostgres({ dataDir: root.dataDir, logFile: root.logFile }), "did not start");
    await chmod(path.join(root.dataDir, "global"), 0o700);
  });
});
