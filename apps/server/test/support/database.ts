import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "../../src/db/database.js";

/** A real embedded Postgres in a temp dir, migrated; `close()` stops it and removes the dir. */
export async function startTestDatabase(): Promise<Database & { dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-test-db-"));
  await chmod(dir, 0o755); // as root, Postgres runs as "postgres" and must reach its data dir
  const database = await openDatabase({ dataDir: path.join(dir, "data"), logFile: path.join(dir, "postgres.log") });
  return {
    ...database,
    dir,
    close: async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
