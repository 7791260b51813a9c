import { mkdir, realpath } from "node:fs/promises";
import path from "node:path";
import { KodoError, isKodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { runGit } from "./git.js";
import { directoryState, worktreeConflict } from "./guards.js";
import { inspectRepo } from "./inspect-repo.js";
import { assertWorktreeName } from "./slug.js";
import { BRANCH_PREFIX, type Worktree } from "./types.js";
import { listWorktrees, type WorktreeEntry } from "./worktree-list.js";

export interface CreateWorktreeOptions {
  repoPath: string;
  /** a branch, tag or commit id; a durable caller passes the commit it recorded earlier */
  baseRef: string;
  slug: string;
  shortId: string;
  /** absolute; must lie outside the repository */
  worktreesRoot: string;
}

const ADD_TIMEOUT_MS = 10 * 60_000;
/** the lock reason `git worktree add` holds while it checks files out (LC_ALL=C) */
const INITIALIZING = "initializing";

/**
 * `git worktree add -b kodo/<slug>-<shortId> <worktreesRoot>/<slug>-<shortId> <baseCommit>`,
 * idempotent: a step re-executed after a crash finds the worktree it made, or repairs a half-made
 * one (branch without worktree, registration whose directory is gone, checkout cut short). The
 * branch is never reset, so commits on it survive every repair.
 */
export async function createWorktree(opts: CreateWorktreeOptions): Promise<Worktree> {
  assertWorktreeName(opts.slug, opts.shortId);
  const { repoRoot, baseCommit } = await inspectRepo(opts.repoPath, opts.baseRef);
  const root = await prepareRoot(opts.worktreesRoot, repoRoot);
  const name = `${opts.slug}-${opts.shortId}`;
  const branch = `${BRANCH_PREFIX}${name}`;
  const ref = `refs/heads/${branch}`;
  const branchExists = (await runGit(["rev-parse", "--verify", "--quiet", ref], { cwd: repoRoot, allowFail: true })).code === 0;
  const base = branchExists ? await originalBase(repoRoot, ref, baseCommit) : baseCommit;
  const worktree: Worktree = { path: path.join(root, name), branch, baseCommit: base, repoRoot };

  const entries = await listWorktrees(repoRoot);
  const withBranch = entries.find((entry) => entry.branch === ref);
  if (withBranch !== undefined && withBranch.path !== worktree.path) {
    throw worktreeConflict(worktree, `branch ${worktree.branch} is checked out in another worktree at ${withBranch.path}`);
  }
  const atPath = entries.find((entry) => entry.path === worktree.path);
  if (atPath !== undefined) {
    if (atPath.branch !== ref) throw worktreeConflict(worktree, `${worktree.path} is a worktree of ${atPath.branch ?? "a detached HEAD"}`);
    if (atPath.prunable === undefined && atPath.locked !== INITIALIZING) {
      await assertBranchFromBase(worktree);
      return worktree;
    }
    await dropHalfMadeEntry(worktree, atPath);
  }

  if (branchExists) await assertBranchFromBase(worktree);
  await assertFreeDirectory(worktree);
  const args = branchExists
    ? ["worktree", "add", worktree.path, worktree.branch]
    : ["worktree", "add", "-b", worktree.branch, worktree.path, worktree.baseCommit];
  try {
    await runGit(args, { cwd: repoRoot, timeoutMs: ADD_TIMEOUT_MS });
  } catch (error) {
    if (!isKodoError(error)) throw error;
    throw new KodoError("WORKTREE_FAILED", `could not create worktree ${worktree.path}: ${error.message}`, {
      retryable: error.retryable,
      details: { ...error.details, path: worktree.path, branch: worktree.branch },
      cause: error,
    });
  }
  return worktree;
}

async function prepareRoot(worktreesRoot: string, repoRoot: string): Promise<string> {
  if (!path.isAbsolute(worktreesRoot)) {
    throw new KodoError("VALIDATION_FAILED", `worktrees root must be an absolute path, got ${JSON.stringify(worktreesRoot)}`);
  }
  await mkdir(worktreesRoot, { recursive: true, mode: 0o700 });
  const root = await realpath(worktreesRoot);
  // inside the checkout, every worktree would show up in the user's own `git status`
  if (isWithin(repoRoot, root)) {
    throw new KodoError("VALIDATION_FAILED", `worktrees root ${root} lies inside the repository ${repoRoot}`, { details: { worktreesRoot: root, repoRoot } });
  }
  return root;
}

/** A registration whose directory is gone, or a checkout that was killed half-way: clear it. */
async function dropHalfMadeEntry(worktree: Worktree, entry: WorktreeEntry): Promise<void> {
  const cwd = worktree.repoRoot;
  if (entry.prunable !== undefined && (await directoryState(entry.path)) === "non-empty") {
    // git lost track of it (e.g. its .git file is gone) but files are there: never delete them
    throw worktreeConflict(worktree, `${entry.path} is registered as stale but still holds files; refusing to touch it`);
  }
  if (entry.locked !== undefined) await runGit(["worktree", "unlock", entry.path], { cwd });
  // no agent has run in an initializing worktree: its files are a partial checkout of the branch
  const force = entry.prunable === undefined ? ["--force"] : [];
  await runGit(["worktree", "remove", ...force, entry.path], { cwd });
}

/**
 * The commit an existing kodo branch was created from (its oldest reflog entry, written by
 * `worktree add -b`). A re-run after a crash may resolve a base ref that has moved on since
 * (`main` got new commits): the worktree keeps its original base when the new one descends from it.
 */
async function originalBase(repoRoot: string, ref: string, resolved: string): Promise<string> {
  const reflog = await runGit(["reflog", "show", "--format=%H %gs", ref, "--"], { cwd: repoRoot, allowFail: true });
  const oldest = reflog.stdout.trimEnd().split("\n").at(-1) ?? "";
  const match = /^([0-9a-f]{40,64}) branch: Created from /.exec(oldest);
  const created = match?.[1];
  if (created === undefined || created === resolved) return resolved;
  const movedOn = await runGit(["merge-base", "--is-ancestor", created, resolved], { cwd: repoRoot, allowFail: true });
  return movedOn.code === 0 ? created : resolved;
}

/** An existing branch must contain the base commit, or it belongs to some other attempt. */
async function assertBranchFromBase(worktree: Worktree): Promise<void> {
  const ancestor = await runGit(["merge-base", "--is-ancestor", worktree.baseCommit, `refs/heads/${worktree.branch}`], {
    cwd: worktree.repoRoot,
    allowFail: true,
  });
  if (ancestor.code === 1) {
    throw worktreeConflict(worktree, `branch ${worktree.branch} exists but does not contain base commit ${worktree.baseCommit}`);
  }
  if (ancestor.code !== 0) {
    throw new KodoError("GIT_FAILED", `could not compare ${worktree.branch} with ${worktree.baseCommit}: ${ancestor.stderr}`, {
      details: { stderr: ancestor.stderr },
    });
  }
}

async function assertFreeDirectory(worktree: Worktree): Promise<void> {
  const state = await directoryState(worktree.path);
  if (state === "not-a-directory") throw worktreeConflict(worktree, `${worktree.path} exists and is not a directory`);
  if (state === "non-empty") throw worktreeConflict(worktree, `${worktree.path} exists, is not empty and is not this run's worktree`);
}
