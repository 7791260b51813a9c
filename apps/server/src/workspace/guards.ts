import { readdir } from "node:fs/promises";
import { KodoError } from "../lib/errors.js";
import type { Worktree } from "./types.js";

export type DirectoryState = "missing" | "empty" | "non-empty" | "not-a-directory";

/** What is at `directory`: kodo only ever creates into, or deletes, what it can account for. */
export async function directoryState(directory: string): Promise<DirectoryState> {
  try {
    return (await readdir(directory)).length === 0 ? "empty" : "non-empty";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "not-a-directory";
  }
}

/** The path or branch is taken by something kodo did not make (or no longer recognises). */
export function worktreeConflict(worktree: Worktree, message: string): KodoError {
  return new KodoError("WORKTREE_CONFLICT", message, { details: { path: worktree.path, branch: worktree.branch } });
}
