import { runGit, splitNul } from "./git.js";

/** One entry of `git worktree list --porcelain -z`. */
export interface WorktreeEntry {
  path: string;
  head: string | undefined;
  /** full ref name (`refs/heads/…`), undefined when detached */
  branch: string | undefined;
  bare: boolean;
  /** lock reason ("" when locked without one), undefined when not locked */
  locked: string | undefined;
  /** set when git considers the entry stale (its directory is gone) */
  prunable: string | undefined;
}

export async function listWorktrees(repoDirectory: string): Promise<WorktreeEntry[]> {
  const result = await runGit(["worktree", "list", "--porcelain", "-z"], { cwd: repoDirectory });
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | undefined;
  for (const field of splitNul(result.stdout)) {
    if (field === "") {
      // an empty field ends a record
      if (current !== undefined) entries.push(current);
      current = undefined;
      continue;
    }
    const space = field.indexOf(" ");
    const key = space === -1 ? field : field.slice(0, space);
    const value = space === -1 ? "" : field.slice(space + 1);
    if (key === "worktree") {
      if (current !== undefined) entries.push(current);
      current = { path: value, head: undefined, branch: undefined, bare: false, locked: undefined, prunable: undefined };
      continue;
    }
    if (current === undefined) continue;
    if (key === "HEAD") current.head = value;
    else if (key === "branch") current.branch = value;
    else if (key === "bare") current.bare = true;
    else if (key === "locked") current.locked = value;
    else if (key === "prunable") current.prunable = value;
  }
  if (current !== undefined) entries.push(current);
  return entries;
}
