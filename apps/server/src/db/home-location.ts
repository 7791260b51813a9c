import { lstat, mkdir, readlink, symlink } from "node:fs/promises";
import path from "node:path";
import { sha256Hex } from "../model/op-key.js";
import { blockedAncestor, isRoot, postgresAccount } from "./run-as.js";

/** Where root-run kodo keeps embedded Postgres when the home itself is out of Postgres's reach. */
export const ROOT_PG_BASE = "/var/lib/kodo";

/**
 * The directory for embedded Postgres (data dir and log) of a home: normally `<home>/pg`. As root,
 * Postgres runs as the `postgres` user, which cannot enter a 0700 home such as /root/.kodo; then
 * it lives in /var/lib/kodo/pg-<hash of the home> and `<home>/pg` is a symlink to it, so the home
 * still shows where everything is. Returns the real (reachable) directory.
 */
export async function resolvePostgresDir(homePgDir: string): Promise<string> {
  const existing = await lstat(homePgDir).catch(() => undefined);
  if (existing?.isSymbolicLink()) return path.resolve(path.dirname(homePgDir), await readlink(homePgDir));
  if (existing !== undefined || !isRoot()) return homePgDir;
  const account = await postgresAccount();
  if (account === undefined || (await blockedAncestor(path.join(homePgDir, "data"), account)) === undefined) return homePgDir;
  const target = path.join(ROOT_PG_BASE, `pg-${sha256Hex(path.resolve(homePgDir)).slice(0, 16)}`);
  await mkdir(target, { recursive: true, mode: 0o755 });
  await mkdir(path.dirname(homePgDir), { recursive: true });
  await symlink(target, homePgDir);
  return target;
}
