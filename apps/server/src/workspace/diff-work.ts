import { changedFiles, patchBetween } from "./changed-files.js";
import { snapshotWorktree } from "./snapshot.js";
import type { ChangedFile, DiffStat, Worktree } from "./types.js";

export interface WorkDiff {
  files: ChangedFile[];
  /** `git apply`-able, binary files included */
  patch: string;
  stat: DiffStat;
  /** nested git repositories the agent left in the worktree: not in the diff, worth a warning */
  nestedRepos: string[];
}

/**
 * Everything in the worktree (committed, uncommitted and untracked, ignored files excepted)
 * against the base commit, kodo's AGENTS.md left out. Reads through a temporary index only.
 */
export async function diffWork(worktree: Worktree): Promise<WorkDiff> {
  const snapshot = await snapshotWorktree(worktree.path);
  const { files, stat } = await changedFiles(worktree.path, worktree.baseCommit, snapshot.tree);
  const patch = await patchBetween(worktree.path, worktree.baseCommit, snapshot.tree);
  return { files, patch, stat, nestedRepos: snapshot.nestedRepos };
}
