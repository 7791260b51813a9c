/**
 * The Workspace port: git worktrees for task runs. Every operation runs git through `runGit`
 * (no shell, no hooks, no fsmonitor) and leaves the user's checkout alone: nothing here checks
 * out, resets, stashes, cleans or stages in the user's repository, and its index, HEAD and files
 * stay byte-identical. Each function lives in a module of its own; this is the front door.
 */
import { writeAgentInstructions } from "./agent-instructions.js";
import { commitWork, type CommitAuthor, type CommitResult } from "./commit-work.js";
import { createWorktree, type CreateWorktreeOptions } from "./create-worktree.js";
import { diffWork, type WorkDiff } from "./diff-work.js";
import { fingerprintWorktree } from "./fingerprint.js";
import { inspectRepo, type RepoInfo } from "./inspect-repo.js";
import { removeWorktree, type RemoveResult } from "./remove-worktree.js";
import type { Worktree } from "./types.js";

export { writeAgentInstructions, restoreRepositoryAgentsFile, KODO_SECTION_BEGIN, KODO_SECTION_END } from "./agent-instructions.js";
// the worktree audit: snapshot, audit, restore, and the WORKTREE_REQUIRED guard
export * from "./audit.js";
export { commitWork, type CommitAuthor, type CommitResult } from "./commit-work.js";
export { createWorktree, type CreateWorktreeOptions } from "./create-worktree.js";
export { diffWork, type WorkDiff } from "./diff-work.js";
export { fingerprintWorktree } from "./fingerprint.js";
export { inspectRepo, type RepoInfo } from "./inspect-repo.js";
export { removeWorktree, type RemoveResult } from "./remove-worktree.js";
export { slugify } from "./slug.js";
export { snapshotWorktree, type WorktreeSnapshot } from "./snapshot.js";
export { AGENTS_FILE, BRANCH_PREFIX, type ChangedFile, type DiffStat, type Worktree } from "./types.js";

/** What the workflow's steps need from a workspace; `gitWorkspace` is the real one. */
export interface Workspace {
  inspectRepo(repoPath: string, baseRef: string): Promise<RepoInfo>;
  createWorktree(opts: CreateWorktreeOptions): Promise<Worktree>;
  writeAgentInstructions(worktree: Worktree, content: string): Promise<{ path: string; mergedWithRepositoryFile: boolean }>;
  commitWork(worktree: Worktree, message: string, author: CommitAuthor): Promise<CommitResult>;
  diffWork(worktree: Worktree): Promise<WorkDiff>;
  fingerprintWorktree(worktree: Worktree): Promise<string>;
  removeWorktree(worktree: Worktree, opts: { deleteBranch: boolean }): Promise<RemoveResult>;
}

export const gitWorkspace: Workspace = {
  inspectRepo,
  createWorktree,
  writeAgentInstructions,
  commitWork,
  diffWork,
  fingerprintWorktree,
  removeWorktree,
};
