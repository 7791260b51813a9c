import { createHash, type Hash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { runGit, splitNul } from "./git.js";
import { snapshotWorktree } from "./snapshot.js";
import { AGENTS_FILE, type Worktree } from "./types.js";

const FORMAT = "kodo-worktree-fingerprint/v2";

/**
 * A sha256 over the worktree's content, kodo's AGENTS.md and `.git` excluded: the snapshot tree
 * (tracked and untracked files, modes, symlinks) plus what git does not hash, read directly:
 * files git ignores (a self-ignoring `.gitignore` cannot hide a change) and nested repositories.
 * Equal fingerprints mean equal content. Not covered: empty directories, permission bits other
 * than the executable bit. Costs a read of every ignored file: cheap before a build fills them.
 */
export async function fingerprintWorktree(worktree: Worktree): Promise<string> {
  const snapshot = await snapshotWorktree(worktree.path);
  const hash = createHash("sha256");
  hash.update(`${FORMAT}\0tree ${snapshot.tree}\0`);
  for (const repo of [...snapshot.nestedRepos].sort()) {
    hash.update(`nested ${repo}\0`);
    await hashEntry(worktree.path, repo, hash);
  }
  for (const entry of await listIgnored(worktree.path)) {
    hash.update(`ignored ${entry}\0`);
    await hashEntry(worktree.path, entry, hash);
  }
  return hash.digest("hex");
}

/** Ignored untracked paths, whole ignored directories collapsed to `dir` (walked by hashEntry). */
async function listIgnored(worktreePath: string): Promise<string[]> {
  const listing = await runGit(["ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"], {
    cwd: worktreePath,
    timeoutMs: 10 * 60_000,
  });
  return splitNul(listing.stdout)
    .map((entry) => (entry.endsWith("/") ? entry.slice(0, -1) : entry))
    .filter((entry) => entry !== AGENTS_FILE)
    .sort();
}

/** Hashes one path without following symlinks (they count as their target text). */
async function hashEntry(root: string, relative: string, hash: Hash): Promise<void> {
  const absolute = path.join(root, relative);
  const info = await lstat(absolute);
  if (info.isSymbolicLink()) {
    hash.update(`l ${relative}\0${await readlink(absolute)}\0`);
  } else if (info.isDirectory()) {
    hash.update(`d ${relative}\0`);
    for (const name of (await readdir(absolute)).sort()) await hashEntry(root, `${relative}/${name}`, hash);
  } else if (info.isFile()) {
    const executable = (info.mode & 0o111) === 0 ? "-" : "x";
    hash.update(`f ${relative}\0${executable} ${info.size} ${await fileDigest(absolute)}\0`);
  } else {
    hash.update(`o ${relative}\0`);
  }
}

async function fileDigest(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const digest = createHash("sha256");
    for await (const chunk of handle.createReadStream({ autoClose: false })) digest.update(chunk as Buffer);
    return digest.digest("hex");
  } finally {
    await handle.close();
  }
}
