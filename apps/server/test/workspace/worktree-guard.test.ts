import { mkdirSync, symlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { assertKodoWorktree, createWorktree } from "../../src/workspace/worktree.js";
import { git, kodoErrorOf, makeRepo, newWorktree, tempDir } from "./fixtures.js";

async function reasonOf(directory: string, options: { worktreesRoot: string; repoRoot?: string }): Promise<unknown> {
  const error = await kodoErrorOf(assertKodoWorktree(directory, options));
  expect(error.code).toBe("WORKTREE_REQUIRED");
  expect(error.details).toMatchObject({ directory });
  return error.details?.reason;
}

describe("assertKodoWorktree", () => {
  it("accepts a worktree createWorktree made, with or without its repository named", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const worktreesRoot = path.dirname(worktree.path);
    await expect(assertKodoWorktree(worktree.path, { worktreesRoot })).resolves.toBeUndefined();
    await expect(assertKodoWorktree(worktree.path, { worktreesRoot, repoRoot: repo })).resolves.toBeUndefined();
    // the root spelled through a symlink above it is the same root
    const alias = path.join(tempDir(), "alias");
    symlinkSync(worktreesRoot, alias);
    await expect(assertKodoWorktree(path.join(alias, path.basename(worktree.path)), { worktreesRoot: alias })).resolves.toBeUndefined();
  });

  it("rejects the main checkout, a plain directory, and what lies outside the root or below a worktree", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const worktreesRoot = path.dirname(worktree.path);
    expect(await reasonOf(repo, { worktreesRoot })).toBe("outside_root");
    expect(await reasonOf(path.join(worktree.path, "src"), { worktreesRoot })).toBe("outside_root");
    expect(await reasonOf(worktreesRoot, { worktreesRoot })).toBe("outside_root");
    expect(await reasonOf(path.join(worktreesRoot, "missing"), { worktreesRoot })).toBe("missing");
    // a sibling whose name merely starts like the root
    const sibling = `${worktreesRoot}2`;
    mkdirSync(sibling);
    expect(await reasonOf(sibling, { worktreesRoot })).toBe("outside_root");

    const plain = path.join(worktreesRoot, "plain");
    mkdirSync(plain);
    expect(await reasonOf(plain, { worktreesRoot })).toBe("not_linked_worktree");
    const mainCheckout = path.join(worktreesRoot, "checkout");
    git(worktreesRoot, ["init", "-q", "-b", "main", mainCheckout]);
    expect(await reasonOf(mainCheckout, { worktreesRoot })).toBe("not_linked_worktree");
    // a main checkout whose .git is a file (separate git dir) is still not a linked worktree
    const separate = path.join(worktreesRoot, "separate");
    git(worktreesRoot, ["init", "-q", "--separate-git-dir", path.join(tempDir(), "gitdir"), separate]);
    git(separate, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x"]);
    // (git 2.39 lists such a main worktree under its gitdir's path, newer git under its own)
    expect(["main_worktree", "not_registered"]).toContain(await reasonOf(separate, { worktreesRoot }));
  });

  it("rejects a symlink into the root, from outside or from inside", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const worktreesRoot = path.dirname(worktree.path);
    const outside = path.join(tempDir(), "link");
    symlinkSync(worktree.path, outside);
    expect(await reasonOf(outside, { worktreesRoot })).toBe("outside_root");
    const inside = path.join(worktreesRoot, "kodo-alias");
    symlinkSync(worktree.path, inside);
    expect(await reasonOf(inside, { worktreesRoot })).toBe("symlinked");
  });

  it("rejects linked worktrees kodo did not make, and another repository's", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const worktreesRoot = path.dirname(worktree.path);
    const feature = path.join(worktreesRoot, "feature");
    git(repo, ["worktree", "add", "-q", "-b", "feature", feature]);
    expect(await reasonOf(feature, { worktreesRoot })).toBe("not_kodo_branch");
    const detached = path.join(worktreesRoot, "detached");
    git(repo, ["worktree", "add", "-q", "--detach", detached]);
    expect(await reasonOf(detached, { worktreesRoot })).toBe("not_kodo_branch");
    // a kodo branch checked out in a directory of another name
    const renamed = path.join(worktreesRoot, "renamed");
    git(repo, ["branch", "kodo/other-1"]);
    git(repo, ["worktree", "add", "-q", renamed, "kodo/other-1"]);
    expect(await reasonOf(renamed, { worktreesRoot })).toBe("not_kodo_branch");

    const otherRepo = makeRepo();
    const foreign = await createWorktree({ repoPath: otherRepo, baseRef: "main", slug: "other", shortId: "x1", worktreesRoot });
    await expect(assertKodoWorktree(foreign.path, { worktreesRoot })).resolves.toBeUndefined();
    expect(await reasonOf(foreign.path, { worktreesRoot, repoRoot: repo })).toBe("other_repository");
  });
});
