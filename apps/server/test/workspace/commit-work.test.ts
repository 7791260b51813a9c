import { rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commitWork, writeAgentInstructions } from "../../src/workspace/worktree.js";
import { checkoutState, codeOf, git, makeRepo, newWorktree, writeFiles } from "./fixtures.js";

const AUTHOR = { name: "kodo bot", email: "kodo@localhost" };

describe("commitWork", () => {
  it("commits every change on the branch, with the author, on top of the base", async () => {
    const repo = makeRepo({ "README.md": "# demo\n", "old.txt": "old\n", "gone.txt": "bye\n" });
    const before = checkoutState(repo);
    const worktree = await newWorktree(repo);
    await writeAgentInstructions(worktree, "do it");
    writeFiles(worktree.path, { "README.md": "# demo\nmore\n", "new file ü.txt": "new\n" });
    rmSync(path.join(worktree.path, "gone.txt"));

    const result = await commitWork(worktree, "kodo: the task\n\nbody", AUTHOR);

    expect(result.created).toBe(true);
    expect(result.commit).toBe(git(repo, ["rev-parse", worktree.branch]).trim());
    expect(git(worktree.path, ["rev-parse", "HEAD^"]).trim()).toBe(worktree.baseCommit);
    expect(git(worktree.path, ["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B"]).trim()).toBe("kodo bot <kodo@localhost>|kodo bot <kodo@localhost>|kodo: the task\n\nbody");
    expect(result.files).toEqual([
      { path: "README.md", status: "modified", insertions: 1, deletions: 0 },
      { path: "gone.txt", status: "deleted", insertions: 0, deletions: 1 },
      { path: "new file ü.txt", status: "added", insertions: 1, deletions: 0 },
    ]);
    expect(result.nestedRepos).toEqual([]);
    // the worktree's own status shows only kodo's (uncommitted) AGENTS.md
    expect(git(worktree.path, ["status", "--porcelain=v2", "-z"])).toBe("? AGENTS.md\0");
    expect(checkoutState(repo)).toEqual(before);
  });

  it("is idempotent: a re-run makes no second commit and returns the same result", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    writeFiles(worktree.path, { "feature.txt": "x\n" });
    const first = await commitWork(worktree, "kodo: feature", AUTHOR);
    const second = await commitWork(worktree, "kodo: feature", AUTHOR);
    expect(second).toEqual({ ...first, created: false });
    expect(git(worktree.path, ["rev-list", "--count", `${worktree.baseCommit}..HEAD`]).trim()).toBe("1");

    // more work later goes on top; the files are always the whole change against the base
    writeFiles(worktree.path, { "second.txt": "y\n" });
    const third = await commitWork(worktree, "kodo: more", AUTHOR);
    expect(third.created).toBe(true);
    expect(git(worktree.path, ["rev-parse", "HEAD^"]).trim()).toBe(first.commit);
    expect(third.files.map((file) => file.path)).toEqual(["feature.txt", "second.txt"]);
  });

  it("returns no commit when nothing changed", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    await writeAgentInstructions(worktree, "only instructions");
    expect(await commitWork(worktree, "kodo: nothing", AUTHOR)).toEqual({ commit: undefined, created: false, files: [], nestedRepos: [] });
    expect(git(repo, ["rev-parse", worktree.branch]).trim()).toBe(worktree.baseCommit);
  });

  it("leaves nested repositories out of the commit and reports them", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    writeFiles(worktree.path, { "real.txt": "x\n", "sub/inner.txt": "y\n" });
    git(path.join(worktree.path, "sub"), ["init", "-q"]);
    const result = await commitWork(worktree, "kodo: work", AUTHOR);
    expect(result.files.map((file) => file.path)).toEqual(["real.txt"]);
    expect(result.nestedRepos).toEqual(["sub"]);
  });

  it("refuses a worktree whose HEAD is not the run's branch, and bad authors", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    expect(await codeOf(commitWork({ ...worktree, branch: "kodo/other" }, "m", AUTHOR))).toBe("WORKTREE_CONFLICT");
    expect(await codeOf(commitWork(worktree, "m", { name: "x", email: "a>b" }))).toBe("VALIDATION_FAILED");
    expect(await codeOf(commitWork(worktree, "  ", AUTHOR))).toBe("VALIDATION_FAILED");
  });
});
