import { runGit, splitNul } from "./git.js";
import { withTempIndex } from "./temp-index.js";
import { AGENTS_FILE } from "./types.js";

export interface WorktreeSnapshot {
  /** git tree id of the worktree's files */
  tree: string;
  /** untracked directories that are git repositories of their own (left out of `tree`) */
  nestedRepos: string[];
}

export interface SnapshotOptions {
  /** the tree the temporary index starts from (default HEAD): what excluded paths keep */
  base?: string;
  /** added to git's environment (the audit pins GIT_DIR and neutralises filter drivers) */
  env?: Record<string, string>;
}

const SNAPSHOT_TIMEOUT_MS = 10 * 60_000;

/** A pathspec that matches exactly `file` at the top level, and excludes it. */
export function excludeExactly(file: string): string {
  return `:(top,literal,exclude)${file}`;
}

/**
 * The worktree's files as a git tree: HEAD's tree in a temporary index, then `git add -A` over
 * every tracked and untracked (not ignored) path. Left out, so they keep HEAD's version: kodo's
 * root AGENTS.md, and nested repositories (git would record a gitlink, or fail without a commit).
 * The worktree's real index is never touched; blobs are written to the shared object store.
 */
export async function snapshotWorktree(worktreePath: string, options: SnapshotOptions = {}): Promise<WorktreeSnapshot> {
  const nestedRepos = await listNestedRepos(worktreePath, options.env);
  const exclusions = [AGENTS_FILE, ...nestedRepos].map(excludeExactly);
  const tree = await withTempIndex(async (indexEnv) => {
    const env = { ...options.env, ...indexEnv };
    await runGit(["read-tree", options.base ?? "HEAD"], { cwd: worktreePath, env });
    await runGit(["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"], {
      cwd: worktreePath,
      env,
      input: exclusions.map((spec) => `${spec}\0`).join(""),
      timeoutMs: SNAPSHOT_TIMEOUT_MS,
    });
    return (await runGit(["write-tree"], { cwd: worktreePath, env })).stdout.trim();
  });
  return { tree, nestedRepos };
}

/** Untracked directories holding a `.git`: `ls-files --others` lists them with a trailing `/`. */
export async function listNestedRepos(worktreePath: string, env?: Record<string, string>): Promise<string[]> {
  const others = await runGit(["ls-files", "--others", "--exclude-standard", "-z"], {
    cwd: worktreePath,
    timeoutMs: SNAPSHOT_TIMEOUT_MS,
    ...(env === undefined ? {} : { env }),
  });
  return splitNul(others.stdout)
    .filter((entry) => entry.endsWith("/"))
    .map((entry) => entry.slice(0, -1));
}

export async function treeOf(cwd: string, revision: string): Promise<string> {
  return (await runGit(["rev-parse", "--verify", "--end-of-options", `${revision}^{tree}`], { cwd })).stdout.trim();
}
