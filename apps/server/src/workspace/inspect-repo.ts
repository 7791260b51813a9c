import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { runGit } from "./git.js";

export interface RepoInfo {
  /** the repository's top level (symlinks resolved) */
  repoRoot: string;
  /** the full commit id `baseRef` names */
  baseCommit: string;
  /**
   * The user's checkout has uncommitted or untracked changes. Not an error: the worktree is made
   * from the base commit, so those changes are simply not part of the task; callers may warn.
   */
  dirty: boolean;
}

/**
 * Checks that `repoPath` is (inside) a git checkout and that `baseRef` names a commit. Reads only:
 * `git status` runs with GIT_OPTIONAL_LOCKS=0, so even the index's stat cache is left alone.
 */
export async function inspectRepo(repoPath: string, baseRef: string): Promise<RepoInfo> {
  const directory = await existingDirectory(repoPath);
  const repoRoot = await topLevel(directory);
  const baseCommit = await resolveCommit(repoRoot, baseRef);
  const status = await runGit(["status", "--porcelain=v2", "-z", "--untracked-files=normal"], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
  return { repoRoot, baseCommit, dirty: status.stdout.length > 0 };
}

async function existingDirectory(repoPath: string): Promise<string> {
  if (repoPath === "" || repoPath.includes("\0")) {
    throw new KodoError("REPO_NOT_FOUND", `invalid repository path ${JSON.stringify(repoPath)}`, { details: { repoPath } });
  }
  const absolute = path.resolve(repoPath);
  try {
    const info = await stat(absolute);
    if (!info.isDirectory()) {
      throw new KodoError("REPO_NOT_GIT", `${absolute} is not a directory, so not a git repository`, { details: { repoPath: absolute } });
    }
    return await realpath(absolute);
  } catch (error) {
    if (error instanceof KodoError) throw error;
    throw new KodoError("REPO_NOT_FOUND", `no repository at ${absolute}`, { details: { repoPath: absolute }, cause: error });
  }
}

async function topLevel(directory: string): Promise<string> {
  const inside = await runGit(["rev-parse", "--is-inside-work-tree"], { cwd: directory, allowFail: true });
  if (inside.code !== 0) {
    throw new KodoError("REPO_NOT_GIT", `${directory} is not a git repository: ${inside.stderr.split("\n")[0] ?? ""}`, {
      details: { repoPath: directory, stderr: inside.stderr },
    });
  }
  if (inside.stdout.trim() !== "true") {
    throw new KodoError("REPO_NOT_GIT", `${directory} has no working tree (a bare repository or a .git directory)`, { details: { repoPath: directory } });
  }
  const top = await runGit(["rev-parse", "--show-toplevel"], { cwd: directory });
  return await realpath(top.stdout.replace(/\n$/, ""));
}

async function resolveCommit(repoRoot: string, baseRef: string): Promise<string> {
  const notFound = (message: string, reason: string): KodoError =>
    new KodoError("BASE_REF_NOT_FOUND", message, { details: { repoRoot, baseRef, reason } });
  if (baseRef === "" || baseRef.startsWith("-") || /[\0\n\r]/.test(baseRef)) {
    throw notFound(`invalid base ref ${JSON.stringify(baseRef)}`, "invalid");
  }
  const commit = await runGit(["rev-parse", "--verify", "--quiet", "--end-of-options", `${baseRef}^{commit}`], { cwd: repoRoot, allowFail: true });
  if (commit.code === 0) return commit.stdout.trim();

  const anyObject = await runGit(["rev-parse", "--verify", "--quiet", "--end-of-options", baseRef], { cwd: repoRoot, allowFail: true });
  if (anyObject.code === 0) throw notFound(`base ref ${baseRef} names a ${await objectType(repoRoot, baseRef)}, not a commit`, "not_a_commit");
  const head = await runGit(["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: repoRoot, allowFail: true });
  const refs = await runGit(["for-each-ref", "--count=1", "--format=%(refname)"], { cwd: repoRoot });
  if (head.code !== 0 && refs.stdout.trim() === "") {
    throw notFound(`the repository at ${repoRoot} has no commits yet, so base ref ${baseRef} does not exist`, "empty_repository");
  }
  throw notFound(`base ref ${baseRef} not found in ${repoRoot}`, "missing");
}

async function objectType(repoRoot: string, ref: string): Promise<string> {
  const type = await runGit(["cat-file", "-t", "--end-of-options", ref], { cwd: repoRoot, allowFail: true });
  return type.code === 0 ? type.stdout.trim() : "non-commit object";
}
