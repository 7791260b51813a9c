import type { ChangedFile } from "@kodo/contracts";

export type { ChangedFile };

/** One task run's git worktree: its own directory and branch, made from a fixed base commit. */
export interface Worktree {
  /** absolute path of the worktree's top level */
  path: string;
  /** short branch name, `kodo/<slug>-<shortId>` */
  branch: string;
  baseCommit: string;
  /** the user's repository (any directory inside it works) */
  repoRoot: string;
}

export interface DiffStat {
  files: number;
  insertions: number;
  deletions: number;
}

/** The instructions file OpenCode reads at the worktree root; kodo's copy is never committed. */
export const AGENTS_FILE = "AGENTS.md";

/** Branches kodo creates, and the only ones it will ever delete. */
export const BRANCH_PREFIX = "kodo/";
