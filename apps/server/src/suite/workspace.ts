/**
 * Where the suite's cases run. By default kodo makes a worktree of its own from the repository's
 * HEAD (`<kodo home>/worktrees/suite-run-0001-<id>`, branch `kodo/suite-run-0001-<id>`), commits
 * the shipped fixtures onto that branch (so the tree is clean and the user's checkout is never
 * touched), commits each case's audited changes, and removes the worktree with a plain
 * `git worktree remove` after a passing run. `--worktree DIR` runs in an existing checkout
 * instead; the writing stages then require DIR to be a kodo worktree (WORKTREE_REQUIRED).
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, realpath, writeFile } from "node:fs/promises";
import path from "node:path";
import { describeError, KodoError } from "../lib/errors.js";
import { commitWork } from "../workspace/commit-work.js";
import { createWorktree } from "../workspace/create-worktree.js";
import { runGit } from "../workspace/git.js";
import { inspectRepo } from "../workspace/inspect-repo.js";
import { removeWorktree } from "../workspace/remove-worktree.js";
import type { Worktree } from "../workspace/types.js";
import { assertKodoWorktree } from "../workspace/worktree-guard.js";
import { listWorktrees } from "../workspace/worktree-list.js";
import { SUITE_FIXTURES } from "./policy.js";

export const SUITE_AUTHOR = { name: "kodo suite", email: "suite@kodo.invalid" } as const;

/** What the suite was pointed at, after the entry check (the tree is clean). */
export type SuiteTarget =
  | { kind: "repository"; repoRoot: string; baseCommit: string }
  | { kind: "checkout"; directory: string; head: string };

export interface SuiteWorkspace {
  /** where the cases run */
  directory: string;
  /** the commit under test: the base of the suite's worktree, or the given checkout's HEAD */
  repoCommit: string;
  /** set when `directory` is a kodo worktree: the audit, the per-case commits and the removal use it */
  worktree: Worktree | undefined;
  /** kodo made the worktree in this run (and removes it after a PASS) */
  created: boolean;
  /** why `directory` is not a kodo worktree, when it is not */
  notKodoWorktree: string | undefined;
}

/** `git status --porcelain` of `directory` (untracked files listed one by one); "" when clean. */
export async function porcelainStatus(directory: string): Promise<string> {
  const status = await runGit(["status", "--porcelain", "--untracked-files=all"], { cwd: directory, env: { GIT_OPTIONAL_LOCKS: "0" }, timeoutMs: 5 * 60_000 });
  return status.stdout;
}

export async function headOf(directory: string): Promise<string> {
  return (await runGit(["rev-parse", "--verify", "HEAD^{commit}"], { cwd: directory })).stdout.trim();
}

/**
 * The suite's entry check: `repo` (default) or `existing` must be a git checkout with a clean
 * tree. REPO_NOT_FOUND / REPO_NOT_GIT / REPO_DIRTY otherwise. Reads only.
 */
export async function entryCheck(o: { repo: string; existing?: string }): Promise<SuiteTarget> {
  if (o.existing === undefined) {
    const info = await inspectRepo(o.repo, "HEAD");
    if (info.dirty) {
      throw new KodoError("REPO_DIRTY", `${info.repoRoot} has uncommitted or untracked changes: the suite starts from a clean tree (commit or stash them first)`, {
        details: { repoRoot: info.repoRoot, status: await porcelainStatus(info.repoRoot) },
      });
    }
    return { kind: "repository", repoRoot: info.repoRoot, baseCommit: info.baseCommit };
  }
  const info = await inspectRepo(o.existing, "HEAD");
  if (info.dirty) {
    throw new KodoError("REPO_DIRTY", `${info.repoRoot} has uncommitted or untracked changes: the suite starts from a clean tree`, {
      details: { directory: info.repoRoot, status: await porcelainStatus(info.repoRoot) },
    });
  }
  return { kind: "checkout", directory: info.repoRoot, head: info.baseCommit };
}

/** Every shipped fixture, as a path relative to the tree (`/`-separated, sorted). */
export async function fixturePaths(): Promise<string[]> {
  const entries = await readdir(SUITE_FIXTURES, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(SUITE_FIXTURES, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

/** Writes the fixtures that are missing or differ; true when anything was written. */
async function provisionFixtures(directory: string): Promise<boolean> {
  let wrote = false;
  for (const relative of await fixturePaths()) {
    const content = await readFile(path.join(SUITE_FIXTURES, ...relative.split("/")));
    const target = path.join(directory, ...relative.split("/"));
    const current = await readFile(target).catch(() => undefined);
    if (current !== undefined && current.equals(content)) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    wrote = true;
  }
  return wrote;
}

async function missingFixtures(directory: string): Promise<string[]> {
  const missing: string[] = [];
  for (const relative of await fixturePaths()) {
    const stat = await lstat(path.join(directory, ...relative.split("/"))).catch(() => undefined);
    if (stat?.isFile() !== true) missing.push(relative);
  }
  return missing;
}

/** Commits what is in the worktree onto its (kodo) branch; true when a commit was made. */
export async function commitSuiteWork(worktree: Worktree, message: string): Promise<boolean> {
  return (await commitWork(worktree, message, SUITE_AUTHOR)).created;
}

async function assertClean(directory: string, when: string): Promise<void> {
  const status = await porcelainStatus(directory);
  if (status !== "") throw new KodoError("WORKTREE_DIRTY", `${directory} is not clean ${when}:\n${status}`, { details: { directory, status } });
}

/** The suite's directory for `runId`: a new kodo worktree with the fixtures, or the given checkout. */
export async function prepareWorkspace(target: SuiteTarget, o: { worktreesRoot: string; runId: string; log: (line: string) => void }): Promise<SuiteWorkspace> {
  if (target.kind === "repository") {
    const worktree = await createWorktree({
      repoPath: target.repoRoot,
      baseRef: target.baseCommit,
      slug: `suite-${o.runId.toLowerCase().replace("_", "-")}`,
      shortId: randomBytes(4).toString("hex"),
      worktreesRoot: o.worktreesRoot,
    });
    o.log(`worktree ${worktree.path} (branch ${worktree.branch}) from ${target.baseCommit.slice(0, 12)}`);
    if (await provisionFixtures(worktree.path)) await commitSuiteWork(worktree, `kodo suite ${o.runId}: the dogfood fixtures`);
    await assertClean(worktree.path, "after the fixtures were committed");
    return { directory: worktree.path, repoCommit: target.baseCommit, worktree, created: true, notKodoWorktree: undefined };
  }

  const directory = await realpath(target.directory);
  const notKodoWorktree = await assertKodoWorktree(directory, { worktreesRoot: o.worktreesRoot }).then(
    () => undefined,
    (error: unknown) => describeError(error),
  );
  if (notKodoWorktree !== undefined) {
    const missing = await missingFixtures(directory);
    if (missing.length > 0) {
      throw new KodoError("VALIDATION_FAILED", `${directory} lacks the suite's fixtures (${missing.join(", ")}); run without --worktree and kodo provisions them in a worktree of its own`, {
        details: { directory, missing },
      });
    }
    return { directory, repoCommit: target.head, worktree: undefined, created: false, notKodoWorktree };
  }
  const entries = await listWorktrees(directory);
  const own = entries.find((entry) => entry.path === directory);
  const branch = own?.branch?.replace(/^refs\/heads\//, "");
  if (branch === undefined) throw new KodoError("WORKTREE_REQUIRED", `${directory} has no branch checked out`);
  const worktree: Worktree = { path: directory, branch, baseCommit: target.head, repoRoot: entries[0]?.path ?? directory };
  if (await provisionFixtures(directory)) await commitSuiteWork(worktree, `kodo suite ${o.runId}: the dogfood fixtures`);
  await assertClean(directory, "after the fixtures were committed");
  return { directory, repoCommit: target.head, worktree, created: false, notKodoWorktree: undefined };
}

/** After a PASS: `git worktree remove` (never forced), the branch kept. Returns what happened, never throws. */
export async function removeSuiteWorktree(workspace: SuiteWorkspace): Promise<{ removed: boolean; note: string }> {
  if (workspace.worktree === undefined || !workspace.created) return { removed: false, note: `kept ${workspace.directory} (kodo did not create it in this run)` };
  try {
    await removeWorktree(workspace.worktree, { deleteBranch: false });
    return { removed: true, note: `removed ${workspace.directory} with git worktree remove; its work stays on branch ${workspace.worktree.branch}` };
  } catch (error) {
    return { removed: false, note: `kept ${workspace.directory}: ${describeError(error)}` };
  }
}
