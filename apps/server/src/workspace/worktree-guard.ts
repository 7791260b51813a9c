import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { describeError, KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { runGit } from "./git.js";
import { BRANCH_PREFIX } from "./types.js";
import { listWorktrees } from "./worktree-list.js";

export interface KodoWorktreeOptions {
  /** the directory kodo creates worktrees in (createWorktree's `worktreesRoot`) */
  worktreesRoot: string;
  /** when given, the worktree must belong to this repository */
  repoRoot?: string;
}

/**
 * Throws WORKTREE_REQUIRED unless `directory` is a linked git worktree kodo created: it lies in
 * the worktrees root (by path components, reached without a symlink below the root: a link from
 * elsewhere into the root is refused), its `.git` is a regular file (not a main checkout's
 * directory), git lists it as a worktree of its repository (not the main one, not stale), and its
 * branch is `kodo/<directory name>`, as createWorktree names them. Anything that lets an agent
 * write calls this first. Reads only; git runs with hooks and fsmonitor off.
 */
export async function assertKodoWorktree(directory: string, options: KodoWorktreeOptions): Promise<void> {
  const refuse = (reason: string, message: string, details: Record<string, unknown> = {}): KodoError =>
    new KodoError("WORKTREE_REQUIRED", `${directory} is not a kodo worktree: ${message}`, {
      details: { directory, worktreesRoot: options.worktreesRoot, reason, ...details },
    });
  if (directory === "" || directory.includes("\0") || !path.isAbsolute(directory) || !path.isAbsolute(options.worktreesRoot)) {
    throw refuse("invalid_path", "the directory and the worktrees root must be absolute paths");
  }
  const root = await realpath(options.worktreesRoot).catch(() => undefined);
  const real = await realpath(directory).catch(() => undefined);
  if (root === undefined) throw refuse("root_missing", "the worktrees root does not exist");
  if (real === undefined) throw refuse("missing", "it does not exist");

  // the path as given must name the worktree itself: below the root (in either spelling), no symlink
  const given = path.resolve(directory);
  const lexicalRoot = path.resolve(options.worktreesRoot);
  const spelledRoot = isWithin(lexicalRoot, given) ? lexicalRoot : isWithin(root, given) ? root : undefined;
  if (spelledRoot === undefined) throw refuse("outside_root", `it lies outside the worktrees root ${root}`);
  const expected = path.join(root, path.relative(spelledRoot, given));
  if (real !== expected) throw refuse("symlinked", `it is reached through a symlink (it resolves to ${real})`, { resolved: real });
  if (!isWithin(root, real) || path.dirname(real) !== root) throw refuse("outside_root", `worktrees are the directories directly in ${root}`);

  const marker = await lstat(path.join(real, ".git")).catch(() => undefined);
  if (marker?.isFile() !== true) {
    throw refuse("not_linked_worktree", marker === undefined ? "it is not a git checkout" : "its .git is not a file (a main checkout, or a link)");
  }

  const entries = await listWorktrees(real).catch((error: unknown) => {
    throw refuse("git_failed", `git cannot read it: ${describeError(error)}`);
  });
  const resolved = await Promise.all(entries.map(async (entry) => await realpath(entry.path).catch(() => entry.path)));
  const index = resolved.indexOf(real);
  const entry = entries[index];
  if (entry === undefined) throw refuse("not_registered", "git does not list it as a worktree of its repository");
  if (index === 0 || entry.bare) throw refuse("main_worktree", "it is the repository's main worktree");
  if (entry.prunable !== undefined) throw refuse("stale", `git considers it stale: ${entry.prunable}`);
  const expectedBranch = `refs/heads/${BRANCH_PREFIX}${path.basename(real)}`;
  if (entry.branch !== expectedBranch) {
    throw refuse("not_kodo_branch", `its branch is ${entry.branch ?? "none (detached HEAD)"}, not ${expectedBranch}`, { branch: entry.branch ?? null });
  }

  if (options.repoRoot !== undefined) {
    const commonDir = async (cwd: string): Promise<string> =>
      await realpath((await runGit(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd })).stdout.replace(/\n$/, ""));
    const [own, expectedCommon] = await Promise.all([commonDir(real), commonDir(options.repoRoot)]).catch((error: unknown) => {
      throw refuse("git_failed", `git cannot read the repositories: ${describeError(error)}`);
    });
    if (own !== expectedCommon) throw refuse("other_repository", `it belongs to another repository than ${options.repoRoot}`, { commonDir: own });
  }
}
