import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createWorktree, slugify, type CreateWorktreeOptions } from "../../src/workspace/worktree.js";
import { checkoutState, codeOf, commitAll, git, makeRepo, tempDir, writeFiles } from "./fixtures.js";

function options(repo: string, overrides: Partial<CreateWorktreeOptions> = {}): CreateWorktreeOptions {
  return { repoPath: repo, baseRef: "main", slug: "fix-login", shortId: "r1x2y3z4", worktreesRoot: path.join(tempDir("kodo-wt-"), "wt"), ...overrides };
}

const registered = (repo: string): string => git(repo, ["worktree", "list", "--porcelain"]);

describe("createWorktree", () => {
  it("creates kodo/<slug>-<shortId> at <root>/<slug>-<shortId> from the base commit", async () => {
    const repo = makeRepo();
    const base = git(repo, ["rev-parse", "HEAD"]).trim();
    writeFiles(repo, { "src/app.txt": "uncommitted edit\n" });
    const before = checkoutState(repo);
    const opts = options(repo);

    const worktree = await createWorktree(opts);

    expect(worktree).toEqual({ path: path.join(opts.worktreesRoot, "fix-login-r1x2y3z4"), branch: "kodo/fix-login-r1x2y3z4", baseCommit: base, repoRoot: repo });
    expect(git(worktree.path, ["symbolic-ref", "HEAD"]).trim()).toBe("refs/heads/kodo/fix-login-r1x2y3z4");
    expect(git(worktree.path, ["rev-parse", "HEAD"]).trim()).toBe(base);
    // made from the commit: the user's uncommitted edit is not in it
    expect(readFileSync(path.join(worktree.path, "src/app.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(git(worktree.path, ["status", "--porcelain"])).toBe("");
    expect(checkoutState(repo)).toEqual(before);
  });

  it("uses the base ref given, not the checked-out branch", async () => {
    const repo = makeRepo();
    const first = git(repo, ["rev-parse", "HEAD"]).trim();
    writeFiles(repo, { "later.txt": "later\n" });
    commitAll(repo, "later");
    const worktree = await createWorktree(options(repo, { baseRef: first }));
    expect(worktree.baseCommit).toBe(first);
    expect(existsSync(path.join(worktree.path, "later.txt"))).toBe(false);
  });

  it("is idempotent: a second call returns the same worktree and keeps its work", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    const first = await createWorktree(opts);
    writeFiles(first.path, { "work.txt": "in progress\n" });
    const before = checkoutState(repo);
    const second = await createWorktree(opts);
    expect(second).toEqual(first);
    expect(readFileSync(path.join(second.path, "work.txt"), "utf8")).toBe("in progress\n");
    expect(registered(repo).match(/^worktree /gm)).toHaveLength(2);
    expect(checkoutState(repo)).toEqual(before);
  });

  it("keeps the original base when the base ref moved on between attempts", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    const first = await createWorktree(opts);
    writeFiles(repo, { "upstream.txt": "new upstream work\n" });
    const moved = commitAll(repo, "main moves on");
    expect(moved).not.toBe(first.baseCommit);
    expect(await createWorktree(opts)).toEqual(first);
    // also when the crash came before the worktree was registered
    git(repo, ["worktree", "remove", first.path]);
    expect(await createWorktree(opts)).toEqual(first);
    expect(existsSync(path.join(first.path, "upstream.txt"))).toBe(false);
  });

  it("repairs a branch without a worktree, keeping the branch's commits", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    const first = await createWorktree(opts);
    writeFiles(first.path, { "done.txt": "committed work\n" });
    const work = commitAll(first.path, "agent work");
    // the directory and its registration are gone, the branch stays
    git(repo, ["worktree", "remove", first.path]);
    expect(git(repo, ["rev-parse", first.branch]).trim()).toBe(work);

    const again = await createWorktree(opts);
    expect(again).toEqual(first);
    expect(git(again.path, ["rev-parse", "HEAD"]).trim()).toBe(work);
    expect(readFileSync(path.join(again.path, "done.txt"), "utf8")).toBe("committed work\n");
  });

  it("repairs a stale registration whose directory is gone", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    const first = await createWorktree(opts);
    writeFiles(first.path, { "done.txt": "committed\n" });
    const work = commitAll(first.path, "agent work");
    rmSync(first.path, { recursive: true, force: true });
    expect(registered(repo)).toContain("prunable");

    const again = await createWorktree(opts);
    expect(again).toEqual(first);
    expect(git(again.path, ["rev-parse", "HEAD"]).trim()).toBe(work);
    expect(registered(repo)).not.toContain("prunable");
    expect(registered(repo).match(/^worktree /gm)).toHaveLength(2);
  });

  it("repairs a checkout that was killed half-way (still locked 'initializing')", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    const first = await createWorktree(opts);
    const adminDir = git(first.path, ["rev-parse", "--path-format=absolute", "--git-dir"]).trim();
    writeFileSync(path.join(adminDir, "locked"), "initializing");
    rmSync(path.join(first.path, "src"), { recursive: true });

    const again = await createWorktree(opts);
    expect(again).toEqual(first);
    expect(readFileSync(path.join(again.path, "src/app.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(registered(repo)).not.toContain("locked");
    expect(git(again.path, ["status", "--porcelain"])).toBe("");
  });

  it("refuses what it did not make", async () => {
    const repo = makeRepo();
    const opts = options(repo);
    // a foreign, non-empty directory at the target path
    mkdirSync(path.join(opts.worktreesRoot, "fix-login-r1x2y3z4"), { recursive: true });
    writeFileSync(path.join(opts.worktreesRoot, "fix-login-r1x2y3z4", "mine.txt"), "keep me\n");
    expect(await codeOf(createWorktree(opts))).toBe("WORKTREE_CONFLICT");
    expect(readFileSync(path.join(opts.worktreesRoot, "fix-login-r1x2y3z4", "mine.txt"), "utf8")).toBe("keep me\n");

    // an existing branch of that name that does not contain the base commit
    const other = makeRepo();
    git(other, ["checkout", "-q", "--orphan", "kodo/fix-login-r1x2y3z4"]);
    writeFiles(other, { "unrelated.txt": "x\n" });
    commitAll(other, "unrelated history");
    git(other, ["checkout", "-q", "main"]);
    expect(await codeOf(createWorktree(options(other)))).toBe("WORKTREE_CONFLICT");
  });

  it("validates names and the worktrees root", async () => {
    const repo = makeRepo();
    expect(await codeOf(createWorktree(options(repo, { slug: "../escape" })))).toBe("VALIDATION_FAILED");
    expect(await codeOf(createWorktree(options(repo, { shortId: "a/b" })))).toBe("VALIDATION_FAILED");
    expect(await codeOf(createWorktree(options(repo, { worktreesRoot: "relative/wt" })))).toBe("VALIDATION_FAILED");
    expect(await codeOf(createWorktree(options(repo, { worktreesRoot: path.join(repo, "wt") })))).toBe("VALIDATION_FAILED");
    expect(await codeOf(createWorktree(options(repo, { baseRef: "nope" })))).toBe("BASE_REF_NOT_FOUND");
    expect(await codeOf(createWorktree(options(path.join(tempDir(), "missing"))))).toBe("REPO_NOT_FOUND");
  });
});

describe("slugify", () => {
  it("makes short, safe, never empty slugs", () => {
    expect(slugify("Fix the login bug!")).toBe("fix-the-login-bug");
    expect(slugify("  Café crème: Ünïcode  ")).toBe("cafe-creme-unicode");
    expect(slugify("../../etc/passwd")).toBe("etc-passwd");
    expect(slugify("日本語")).toBe("task");
    expect(slugify("")).toBe("task");
    expect(slugify("---")).toBe("task");
    const long = slugify("Refactor the authentication middleware so that tokens are verified once");
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toBe("refactor-the-authentication-middleware");
    expect(slugify("a".repeat(100))).toBe("a".repeat(40));
  });
});
