import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { restoreRepositoryAgentsFile } from "./agent-instructions.js";
import { changedFiles } from "./changed-files.js";
import { runGit } from "./git.js";
import { directoryState, worktreeConflict } from "./guards.js";
import { snapshotWorktree, treeOf } from "./snapshot.js";
import { BRANCH_PREFIX, type Worktree } from "./types.js";
import { listWorktrees, type WorktreeEntry } from "./worktree-list.js";

export interface RemoveResult {
  /** false when the worktree was already gone */
  removed: boolean;
  branchDeleted: boolean;
}

/**
 * `git worktree remove` without `--force`: a worktree holding work that is not committed on its
 * branch is refused with WORKTREE_DIRTY (kodo's own AGENTS.md does not count; it is put back to
 * the base's version first). Files git ignores go with the worktree, as git does it. The branch
 * is deleted only when asked and only if it is a `kodo/` branch no other worktree has checked
 * out. Idempotent: an already removed worktree or branch is not an error.
 */
export async function removeWorktree(worktree: Worktree, opts: { deleteBranch: boolean }): Promise<RemoveResult> {
  if (opts.deleteBranch && !worktree.branch.startsWith(BRANCH_PREFIX)) {
    throw new KodoError("VALIDATION_FAILED", `refusing to delete ${worktree.branch}: kodo deletes only ${BRANCH_PREFIX} branches`);
  }
  const removed = await removeDirectory(worktree);
  const branchDeleted = opts.deleteBranch ? await deleteBranch(worktree) : false;
  return { removed, branchDeleted };
}

async function removeDirectory(worktree: Worktree): Promise<boolean> {
  const entries = await listWorktrees(worktree.repoRoot);
  const index = entries.findIndex((entry) => path.resolve(entry.path) === path.resolve(worktree.path));
  const entry = entries[index];
  if (entry === undefined) {
    if (await holdsFiles(worktree.path)) throw worktreeConflict(worktree, `${worktree.path} is not a registered worktree; refusing to delete it`);
    return false;
  }
  if (index === 0 || entry.bare) throw worktreeConflict(worktree, `${worktree.path} is the repository's main working tree`);
  if (entry.branch !== `refs/heads/${worktree.branch}`) {
    throw worktreeConflict(worktree, `${worktree.path} has ${entry.branch ?? "a detached HEAD"} checked out, not ${worktree.branch}`);
  }
  if (entry.locked !== undefined) {
    throw new KodoError("WORKTREE_FAILED", `worktree ${worktree.path} is locked${entry.locked === "" ? "" : `: ${entry.locked}`}`, { details: { path: worktree.path } });
  }
  if (entry.prunable === undefined) await prepareLiveWorktree(worktree);
  else if (await holdsFiles(worktree.path)) throw worktreeConflict(worktree, `${worktree.path} is registered as stale but still holds files`);
  await removeRegistered(worktree, entry);
  return true;
}

/** Deletes the (kodo/) branch unless some worktree still has it checked out. */
async function deleteBranch(worktree: Worktree): Promise<boolean> {
  const cwd = worktree.repoRoot;
  const ref = `refs/heads/${worktree.branch}`;
  const holder = (await listWorktrees(cwd)).find((other) => other.branch === ref);
  if (holder !== undefined) throw worktreeConflict(worktree, `branch ${worktree.branch} is checked out at ${holder.path}`);
  const tip = await runGit(["rev-parse", "--verify", "--quiet", ref], { cwd, allowFail: true });
  if (tip.code !== 0) return false;
  await runGit(["update-ref", "-d", ref, tip.stdout.trim()], { cwd });
  return true;
}

/** Refuses work not committed on the branch, then leaves the tree exactly at HEAD for git. */
async function prepareLiveWorktree(worktree: Worktree): Promise<void> {
  const snapshot = await snapshotWorktree(worktree.path);
  const head = await treeOf(worktree.path, "HEAD");
  if (snapshot.tree !== head || snapshot.nestedRepos.length > 0) {
    const { files } = await changedFiles(worktree.path, head, snapshot.tree);
    throw new KodoError("WORKTREE_DIRTY", `worktree ${worktree.path} has changes not committed on ${worktree.branch}`, {
      details: { path: worktree.path, files: files.map((file) => file.path), nestedRepos: snapshot.nestedRepos },
    });
  }
  await runGit(["read-tree", "--reset", "HEAD"], { cwd: worktree.path });
  await restoreRepositoryAgentsFile(worktree);
}

async function removeRegistered(worktree: Worktree, entry: WorktreeEntry): Promise<void> {
  const result = await runGit(["worktree", "remove", entry.path], { cwd: worktree.repoRoot, allowFail: true, timeoutMs: 10 * 60_000 });
  if (result.code === 0) return;
  const dirty = /modified or untracked files/.test(result.stderr);
  throw new KodoError(dirty ? "WORKTREE_DIRTY" : "GIT_FAILED", `could not remove worktree ${worktree.path}: ${result.stderr}`, {
    details: { path: worktree.path, stderr: result.stderr },
  });
}

async function holdsFiles(directory: string): Promise<boolean> {
  const state = await directoryState(directory);
  return state === "non-empty" || state === "not-a-directory";
}
