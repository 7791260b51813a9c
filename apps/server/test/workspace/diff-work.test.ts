import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNameStatus, parseNumstat } from "../../src/workspace/changed-files.js";
import { diffWork, snapshotWorktree, writeAgentInstructions } from "../../src/workspace/worktree.js";
import { checkoutState, git, makeRepo, newWorktree, tempDir, worktreeIndexHash, writeFiles } from "./fixtures.js";

const BASE_FILES = {
  "README.md": "# demo\n",
  "src/keep.txt": "a\nb\nc\n",
  "src/remove me.txt": "bye\n",
  "docs/guide long name.md": "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n",
  "bin/tool.sh": "#!/bin/sh\necho hi\n",
};

describe("diffWork", () => {
  it("lists added, modified, deleted, renamed and untracked files with exact paths and counts", async () => {
    const repo = makeRepo(BASE_FILES);
    const before = checkoutState(repo);
    const worktree = await newWorktree(repo);
    await writeAgentInstructions(worktree, "instructions");
    const cwd = worktree.path;
    writeFiles(cwd, { "src/keep.txt": "a\nB\nc\nd\n" });
    rmSync(path.join(cwd, "src/remove me.txt"));
    mkdirSync(path.join(cwd, "docs/ünï cödé"), { recursive: true });
    renameSync(path.join(cwd, "docs/guide long name.md"), path.join(cwd, "docs/ünï cödé/guide — moved.md"));
    writeFiles(cwd, { "new dir/fresh file.txt": "1\n2\n", "weird\nname.txt": "newline in the name\n" });
    // staged in the worktree's real index too: still diffed the same way
    writeFiles(cwd, { "staged.txt": "staged\n" });
    git(cwd, ["add", "staged.txt"]);
    writeFileSync(path.join(cwd, "image.bin"), Buffer.from([0, 1, 2, 3, 255, 0]));
    const indexBefore = worktreeIndexHash(worktree);

    const diff = await diffWork(worktree);

    expect(diff.files).toEqual([
      { path: "docs/ünï cödé/guide — moved.md", status: "renamed", oldPath: "docs/guide long name.md", insertions: 0, deletions: 0 },
      { path: "image.bin", status: "added", insertions: 0, deletions: 0 },
      { path: "new dir/fresh file.txt", status: "added", insertions: 2, deletions: 0 },
      { path: "src/keep.txt", status: "modified", insertions: 2, deletions: 1 },
      { path: "src/remove me.txt", status: "deleted", insertions: 0, deletions: 1 },
      { path: "staged.txt", status: "added", insertions: 1, deletions: 0 },
      { path: "weird\nname.txt", status: "added", insertions: 1, deletions: 0 },
    ]);
    expect(diff.stat).toEqual({ files: 7, insertions: 6, deletions: 2 });
    expect(diff.nestedRepos).toEqual([]);
    expect(diff.patch).toContain("+B\n");
    expect(diff.patch).toContain("GIT binary patch");
    expect(diff.patch).not.toContain("instructions");
    expect(worktreeIndexHash(worktree)).toBe(indexBefore);
    expect(checkoutState(repo)).toEqual(before);

    // the patch is complete: applied to a fresh copy of the base it reproduces the worktree
    const replay = path.join(tempDir(), "replay");
    git(repo, ["worktree", "add", "-q", "--detach", replay, worktree.baseCommit]);
    git(replay, ["apply", "--index", "-"], diff.patch);
    expect(git(replay, ["write-tree"]).trim()).toBe((await snapshotWorktree(worktree.path)).tree);
    git(repo, ["worktree", "remove", "--force", replay]);
  });

  it("reports a mode change as modified and leaves ignored files out", async () => {
    const repo = makeRepo({ ...BASE_FILES, ".gitignore": "build/\n" });
    const worktree = await newWorktree(repo);
    chmodSync(path.join(worktree.path, "bin/tool.sh"), 0o755);
    writeFiles(worktree.path, { "build/out.js": "generated\n" });
    const diff = await diffWork(worktree);
    expect(diff.files).toEqual([{ path: "bin/tool.sh", status: "modified", insertions: 0, deletions: 0 }]);
  });

  it("is empty for an untouched worktree and reports nested repositories separately", async () => {
    const repo = makeRepo(BASE_FILES);
    const worktree = await newWorktree(repo);
    expect(await diffWork(worktree)).toEqual({ files: [], patch: "", stat: { files: 0, insertions: 0, deletions: 0 }, nestedRepos: [] });
    mkdirSync(path.join(worktree.path, "vendor/lib"), { recursive: true });
    git(path.join(worktree.path, "vendor/lib"), ["init", "-q"]);
    writeFiles(worktree.path, { "vendor/lib/code.txt": "x\n" });
    const diff = await diffWork(worktree);
    expect(diff.files).toEqual([]);
    expect(diff.nestedRepos).toEqual(["vendor/lib"]);
  });
});

describe("diff output parsers", () => {
  it("parse -z name-status and numstat, renames included", () => {
    expect(parseNameStatus("M\0a b\0R087\0old\0new\nline\0D\0gone\0")).toEqual([
      { path: "a b", status: "modified" },
      { path: "new\nline", status: "renamed", oldPath: "old" },
      { path: "gone", status: "deleted" },
    ]);
    const counts = parseNumstat("3\t1\ta b\0" + "2\t0\t\0old\0new\nline\0" + "-\t-\tbin\0");
    expect([...counts.entries()]).toEqual([
      ["a b", { insertions: 3, deletions: 1 }],
      ["new\nline", { insertions: 2, deletions: 0 }],
      ["bin", { insertions: 0, deletions: 0 }],
    ]);
  });
});
