import { readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { KodoError, describeError } from "../lib/errors.js";
import { isRunning } from "./proc.js";

export function startLockPath(dataDir: string): string {
  return path.join(path.dirname(dataDir), `${path.basename(dataDir)}.kodo.lock`);
}

/** A lock whose holder died (crashed mid-start), or a file that never got its pid. */
async function isStale(file: string): Promise<boolean> {
  const holder = Number((await readFile(file, "utf8").catch(() => "")).trim());
  if (Number.isInteger(holder) && holder > 0) return !(await isRunning(holder));
  const info = await stat(file).catch(() => undefined);
  return info === undefined || Date.now() - info.mtimeMs > 2_000;
}

/**
 * Runs `fn` while holding `<dataDir>.kodo.lock` (created exclusively, holding our pid), so two
 * processes starting kodo on one home at once cannot both run initdb or both launch a postmaster:
 * the second waits, then finds the first one's server. A lock left by a dead process is taken
 * over. Waiting is bounded by `timeoutMs` (DB_UNAVAILABLE).
 */
export async function withStartLock<T>(dataDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const file = startLockPath(dataDir);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new KodoError("DB_UNAVAILABLE", `cannot create ${file}: ${describeError(error)}`, { cause: error });
      }
    }
    if (await isStale(file)) {
      await rm(file, { force: true });
      continue;
    }
    if (performance.now() > deadline) {
      const holder = (await readFile(file, "utf8").catch(() => "?")).trim();
      throw new KodoError(
        "DB_UNAVAILABLE",
        `process ${holder} has been starting the embedded Postgres of ${dataDir} for more than ${timeoutMs} ms; stop it, or remove ${file} if no such process runs`,
        { retryable: true },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}
