import { appendFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  commitWork,
  createWorktree,
  diffWork,
  fingerprintWorktree,
  inspectRepo,
  removeWorktree,
  slugify,
  writeAgentInstructions,
} from "../../src/workspace/worktree.js";
import { checkoutState, git, makeRepo, tempDir, writeFiles } from "./fixtures.js";

describe("the user's checkout", () => {
  it("stays byte-identical (status, index, HEAD, config, exclude, files) through every operation", async () => {
    const repo = makeRepo({ "AGENTS.md": "their rules\n", "src/app.txt": "one\n", "docs/a.md": "a\n" });
    // a dirty checkout: staged, unstaged, untracked and ignored-by-exclude changes
    writeFiles(repo, { "staged.txt": "staged\n" });
    git(repo, ["add", "staged.txt"]);
    writeFiles(repo, { "src/app.txt": "user edit\n", "scratch.txt": "user notes\n", "local.log": "log\n" });
    appendFileSync(path.join(repo, ".git", "info", "exclude"), "*.log\n");
    const before = checkoutState(repo);
    const unchanged = (): void => expect(checkoutState(repo)).toEqual(before);

    const info = await inspectRepo(repo, "main");
    expect(info.dirty).toBe(true);
    unchanged();

    const worktree = await createWorktree({ repoPath: repo, baseRef: "main", slug: slugify("Add a feature"), shortId: "k9", worktreesRoot: path.join(tempDir(), "wt") });
    unchanged();
    await createWorktree({ repoPath: repo, baseRef: info.baseCommit, slug: "add-a-feature", shortId: "k9", worktreesRoot: path.dirname(worktree.path) });
    unchanged();

    await writeAgentInstructions(worktree, "kodo says hi");
    unchanged();
    const prepared = await fingerprintWorktree(worktree);
    unchanged();

    writeFiles(worktree.path, { "src/app.txt": "agent edit\n", "feature.txt": "feature\n" });
    rmSync(path.join(worktree.path, "docs/a.md"));
    expect(await fingerprintWorktree(worktree)).not.toBe(prepared);
    unchanged();

    const diff = await diffWork(worktree);
    expect(diff.files.map((file) => `${file.status} ${file.path}`)).toEqual(["deleted docs/a.md", "added feature.txt", "modified src/app.txt"]);
    unchanged();

    const committed = await commitWork(worktree, "kodo: add a feature", { name: "kodo", email: "kodo@localhost" });
    expect(committed.commit).toBeDefined();
    unchanged();
    expect(await commitWork(worktree, "kodo: add a feature", { name: "kodo", email: "kodo@localhost" })).toEqual({ ...committed, created: false });
    unchanged();

    expect(await removeWorktree(worktree, { deleteBranch: true })).toEqual({ removed: true, branchDeleted: true });
    unchanged();
  });
});
