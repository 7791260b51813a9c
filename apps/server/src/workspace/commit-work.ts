import { KodoError } from "../lib/errors.js";
import { changedFiles } from "./changed-files.js";
import { runGit } from "./git.js";
import { snapshotWorktree, treeOf } from "./snapshot.js";
import type { ChangedFile, Worktree } from "./types.js";

export interface CommitAuthor {
  name: string;
  email: string;
}

export interface CommitResult {
  /** the branch's tip when it differs from the base commit; undefined when nothing changed */
  commit: string | undefined;
  /** whether this call made a new commit (false on a re-run after a successful one) */
  created: boolean;
  /** everything the branch changes against the base commit */
  files: ChangedFile[];
  /** nested git repositories left in the worktree: never committed */
  nestedRepos: string[];
}

/**
 * Commits everything the agent changed onto the worktree's branch: a snapshot tree (temporary
 * index from HEAD + `git add -A`, kodo's AGENTS.md kept at HEAD's version, i.e. the base's, or
 * absent), `commit-tree`, then a compare-and-swap `update-ref`. No hooks, no signing prompts.
 * Idempotent: when the snapshot already equals HEAD's tree no commit is made, and the result
 * (tip and files against the base) is the same as the run that made it.
 */
export async function commitWork(worktree: Worktree, message: string, author: CommitAuthor): Promise<CommitResult> {
  assertIdentity(author);
  if (message.trim() === "") throw new KodoError("VALIDATION_FAILED", "commit message is empty");
  const cwd = worktree.path;
  const head = await branchHead(worktree);
  const snapshot = await snapshotWorktree(cwd);

  let tip = head;
  let created = false;
  if (snapshot.tree !== (await treeOf(cwd, head))) {
    const identity = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    };
    const body = message.endsWith("\n") ? message : `${message}\n`;
    tip = (await runGit(["commit-tree", "--no-gpg-sign", snapshot.tree, "-p", head], { cwd, env: identity, input: body })).stdout.trim();
    // fails if someone moved the branch meanwhile, instead of dropping their commit
    await runGit(["update-ref", "-m", "kodo: commit agent work", `refs/heads/${worktree.branch}`, tip, head], { cwd });
    created = true;
  }
  // The worktree's own index (kodo's, not the user's) follows HEAD, keeping stat data of
  // unchanged entries: `git status` there and `git worktree remove` then see a clean tree.
  await runGit(["read-tree", "--reset", tip], { cwd });

  const files = tip === worktree.baseCommit ? [] : (await changedFiles(cwd, worktree.baseCommit, tip)).files;
  return { commit: tip === worktree.baseCommit ? undefined : tip, created, files, nestedRepos: snapshot.nestedRepos };
}

/** HEAD must be the run's branch, and the branch must contain the base commit. */
async function branchHead(worktree: Worktree): Promise<string> {
  const cwd = worktree.path;
  const symbolic = await runGit(["symbolic-ref", "--quiet", "HEAD"], { cwd, allowFail: true });
  if (symbolic.stdout.trim() !== `refs/heads/${worktree.branch}`) {
    throw new KodoError("WORKTREE_CONFLICT", `HEAD of ${cwd} is not on ${worktree.branch}`, {
      details: { path: cwd, branch: worktree.branch, head: symbolic.stdout.trim() },
    });
  }
  const head = (await runGit(["rev-parse", "--verify", "HEAD"], { cwd })).stdout.trim();
  const ancestor = await runGit(["merge-base", "--is-ancestor", worktree.baseCommit, head], { cwd, allowFail: true });
  if (ancestor.code !== 0) {
    throw new KodoError("WORKTREE_CONFLICT", `branch ${worktree.branch} does not contain base commit ${worktree.baseCommit}`, {
      details: { path: cwd, branch: worktree.branch, head },
    });
  }
  return head;
}

function assertIdentity(author: CommitAuthor): void {
  const bad = /[<>\0\n]/;
  if (author.name.trim() === "" || author.email.trim() === "" || bad.test(author.name) || bad.test(author.email)) {
    throw new KodoError("VALIDATION_FAILED", `invalid commit author ${JSON.stringify(author)}`);
  }
}
