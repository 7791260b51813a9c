import { lstat } from "node:fs/promises";
import path from "node:path";
import { auditGitEnv, gitFilePath, hooksDirectory, locateWorktreeGit, readHead, readRefs, type GitLocation } from "./audit-git.js";
import { AUDIT_SNAPSHOT_FORMAT, GIT_FILE_NAMES, type AuditSnapshot } from "./audit-types.js";
import { runGit, splitNul } from "./git.js";
import { recordDirectory, recordFile } from "./recorded-file.js";
import { snapshotWorktree } from "./snapshot.js";
import { AGENTS_FILE, type Worktree } from "./types.js";

const LISTING_TIMEOUT_MS = 10 * 60_000;
const LISTING_MAX_BYTES = 256 * 1024 * 1024;
/** beyond this many ignored entries the snapshot keeps none (and the audit skips that check) */
const MAX_IGNORED_ENTRIES = 20_000;

/** The git files watched (config, pointers), the hooks and the `.git` pointer: read directly. */
export type GitFilesState = Pick<AuditSnapshot, "gitFiles" | "hooks" | "gitPointer">;

/**
 * Everything the audit compares after an agent step, taken before it: the files as a git tree
 * (tracked and untracked, not ignored; the worktree's index untouched), HEAD, refs, the watched
 * gitdir files with their content, the hooks and the `.git` pointer file. Plain JSON.
 */
export async function takeAuditSnapshot(worktree: Worktree): Promise<AuditSnapshot> {
  const location = await locateWorktreeGit(worktree);
  return await readAuditState(location, await readGitFiles(location, true), undefined);
}

/**
 * The watched gitdir files, hooks and `.git` pointer. Their content is kept before the step (to
 * restore it); after it only hashes: what the agent put there (a link to a secret) is not stored.
 */
export async function readGitFiles(location: GitLocation, keepContent: boolean): Promise<GitFilesState> {
  const gitFiles = [];
  for (const name of GIT_FILE_NAMES) gitFiles.push({ name, file: await recordFile(gitFilePath(location, name), keepContent) });
  return {
    gitFiles,
    hooks: await recordDirectory(hooksDirectory(location), keepContent),
    gitPointer: await recordFile(path.join(location.worktreePath, ".git"), keepContent),
  };
}

/**
 * The rest of the state, through git with the location pinned. `base` is the tree the snapshot
 * starts from: HEAD before the step; the before-tree after it, so that what the snapshot leaves
 * out (kodo's AGENTS.md, nested repositories) compares equal whatever HEAD became.
 */
export async function readAuditState(location: GitLocation, files: GitFilesState, base: string | undefined): Promise<AuditSnapshot> {
  const cwd = location.worktreePath;
  const env = await auditGitEnv(location);
  const { head, symbolicHead } = await readHead(cwd, env);
  const refs = await readRefs(cwd, env);
  const snapshot = await snapshotWorktree(cwd, base === undefined ? { env } : { env, base });
  const others = await listOthers(cwd, env, false);
  const ignored = await listOthers(cwd, env, true);
  const nested = new Set([...snapshot.nestedRepos, ...(await reposInTrackedDirectories(cwd, env, snapshot.tree))]);
  return {
    format: AUDIT_SNAPSHOT_FORMAT,
    worktreePath: location.worktreePath,
    gitDir: location.gitDir,
    commonDir: location.commonDir,
    tree: snapshot.tree,
    head,
    symbolicHead,
    refs,
    untracked: others.filter((entry) => !entry.endsWith("/")),
    nestedRepos: [...nested].sort(),
    ignored: ignored.length > MAX_IGNORED_ENTRIES ? null : ignored.map((entry) => entry.replace(/\/$/, "")),
    ...files,
  };
}

/** Untracked paths (nested repositories end in `/`), or ignored ones with whole directories collapsed. */
async function listOthers(cwd: string, env: Record<string, string>, ignored: boolean): Promise<string[]> {
  const flags = ignored ? ["--ignored", "--directory"] : [];
  const listing = await runGit(["ls-files", "--others", "--exclude-standard", ...flags, "-z"], {
    cwd,
    env,
    timeoutMs: LISTING_TIMEOUT_MS,
    maxOutputBytes: LISTING_MAX_BYTES,
  });
  return splitNul(listing.stdout)
    .filter((entry) => entry !== AGENTS_FILE)
    .sort();
}

/**
 * A `git init` inside a directory that holds tracked files is not listed as untracked: look for a
 * `.git` in every directory of the tree (lstat only; nothing inside is read or run).
 */
async function reposInTrackedDirectories(cwd: string, env: Record<string, string>, tree: string): Promise<string[]> {
  const listing = await runGit(["ls-tree", "-r", "-d", "-z", "--name-only", "--full-tree", tree], {
    cwd,
    env,
    timeoutMs: LISTING_TIMEOUT_MS,
    maxOutputBytes: LISTING_MAX_BYTES,
  });
  const found: string[] = [];
  for (const directory of splitNul(listing.stdout)) {
    const marker = await lstat(path.join(cwd, directory, ".git")).catch(() => undefined);
    if (marker !== undefined) found.push(directory);
  }
  return found;
}
