import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** The account the Postgres processes run as: the `postgres` user when kodo runs as root, else kodo's own. */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
  /** true when kodo is root and must switch to `uid`/`gid` for initdb and postgres */
  switchUser: boolean;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function idNumbers(flag: "-u" | "-g" | "-G", name: string): Promise<number[]> {
  const { stdout } = await execFileAsync("id", [flag, name], { timeout: 5_000 });
  return stdout.trim().split(/\s+/).map(Number).filter(Number.isInteger);
}

/** Who Postgres runs as; undefined when root and no `postgres` user exists (yet). */
export async function postgresAccount(): Promise<RunAs | undefined> {
  if (!isRoot()) {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    return { name: "self", uid, gid, groups: process.getgroups?.() ?? [gid], switchUser: false };
  }
  try {
    const [uid] = await idNumbers("-u", "postgres");
    const [gid] = await idNumbers("-g", "postgres");
    const groups = await idNumbers("-G", "postgres");
    if (uid === undefined || gid === undefined) return undefined;
    return { name: "postgres", uid, gid, groups, switchUser: true };
  } catch {
    return undefined;
  }
}

function canSearch(mode: number, ownerUid: number, ownerGid: number, account: RunAs): boolean {
  if (account.uid === 0) return true;
  if (ownerUid === account.uid) return (mode & 0o100) !== 0;
  if (account.groups.includes(ownerGid) || ownerGid === account.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * The first existing ancestor of `target` (not `target` itself) that `account` may not enter;
 * undefined when every existing ancestor is searchable. Matters when kodo runs as root: Postgres
 * then runs as `postgres`, which cannot reach anything below a 0700 directory such as /root.
 */
export async function blockedAncestor(target: string, account: RunAs): Promise<string | undefined> {
  const chain: string[] = [];
  for (let current = path.dirname(path.resolve(target)); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const directory of chain) {
    const info = await stat(directory).catch(() => undefined);
    if (info === undefined) return undefined;
    if (!canSearch(info.mode, info.uid, info.gid, account)) return directory;
  }
  return undefined;
}
