import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commitWork, removeWorktree, writeAgentInstructions } from "../../src/workspace/worktree.js";
import { checkoutState, git, kodoErrorOf, makeRepo, newWorktree, writeFiles } from "./fixtures.js";

const AUTHOR = { name: "kodo", email: "kodo@localhost" };

const branchExists = (repo: string, branch: string): boolean => git(repo, ["branch", "--list", branch]).trim() !== "";

describe("removeWorktree", () => {
  it("removes a committed worktree (kodo's AGENTS.md does not count), keeping or deleting the branch", async () => {
    for (const repoFiles of [undefined, { "AGENTS.md": "theirs\n", "a.txt": "a\n" }]) {
      const repo = makeRepo(repoFiles);
      const before = checkoutState(repo);
      const worktree = await newWorktree(repo);
      await writeAgentInstructions(worktree, "do it");
      writeFiles(worktree.path, { "feature.txt": "x\n" });
      await commitWork(worktree, "kodo: feature", AUTHOR);

      expect(await removeWorktree(worktree, { deleteBranch: false })).toEqual({ removed: true, branchDeleted: false });
      expect(existsSync(worktree.path)).toBe(false);
      expect(branchExists(repo, worktree.branch)).toBe(true);
      // idempotent, and the branch can go later
      expect(await removeWorktree(worktree, { deleteBranch: true })).toEqual({ removed: false, branchDeleted: true });
      expect(branchExists(repo, worktree.branch)).toBe(false);
      expect(await removeWorktree(worktree, { deleteBranch: true })).toEqual({ removed: false, branchDeleted: false });
      expect(git(repo, ["worktree", "list", "--porcelain"]).match(/^worktree /gm)).toHaveLength(1);
      expect(checkoutState(repo)).toEqual(before);
    }
  });

  it("refuses a worktree with uncommitted work and loses nothing", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    await writeAgentInstructions(worktree, "do it");
    writeFiles(worktree.path, { "unsaved.txt": "precious\n" });

    const refused = await kodoErrorOf(removeWorktree(worktree, { deleteBranch: true }));
    expect(refused.code).toBe("WORKTREE_DIRTY");
    expect(refused.details?.["files"]).toEqual(["unsaved.txt"]);
    expect(readFileSync(path.join(worktree.path, "unsaved.txt"), "utf8")).toBe("precious\n");
    expect(readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8")).toContain("do it");
    expect(branchExists(repo, worktree.branch)).toBe(true);
  });

  it("never deletes a branch that is not kodo's, nor a directory it did not register", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    expect((await kodoErrorOf(removeWorktree({ ...worktree, branch: "main" }, { deleteBranch: true }))).code).toBe("VALIDATION_FAILED");
    expect((await kodoErrorOf(removeWorktree({ ...worktree, path: repo, branch: "main" }, { deleteBranch: false }))).code).toBe("WORKTREE_CONFLICT");
    expect((await kodoErrorOf(removeWorktree({ ...worktree, path: path.join(repo, "src") }, { deleteBranch: false }))).code).toBe("WORKTREE_CONFLICT");
    expect(existsSync(path.join(repo, "src/app.txt"))).toBe(true);
    expect(existsSync(worktree.path)).toBe(true);
  });

  it("takes ignored files with it (as git does) but refuses a nested repository", async () => {
    const repo = makeRepo({ ".gitignore": "build/\n", "a.txt": "a\n" });
    const worktree = await newWorktree(repo);
    writeFiles(worktree.path, { "build/out.js": "generated\n", "nested/inner.txt": "x\n" });
    git(path.join(worktree.path, "nested"), ["init", "-q"]);
    const refused = await kodoErrorOf(removeWorktree(worktree, { deleteBranch: false }));
    expect(refused.code).toBe("WORKTREE_DIRTY");
    expect(refused.details?.["nestedRepos"]).toEqual(["nested"]);
    rmSync(path.join(worktree.path, "nested"), { recursive: true });
    expect(await removeWorktree(worktree, { deleteBranch: false })).toEqual({ removed: true, branchDeleted: false });
    expect(existsSync(worktree.path)).toBe(false);
  });

  it("clears a registration whose directory is already gone", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    rmSync(worktree.path, { recursive: true, force: true });
    expect(await removeWorktree(worktree, { deleteBranch: true })).toEqual({ removed: true, branchDeleted: true });
    expect(git(repo, ["worktree", "list", "--porcelain"])).not.toContain(worktree.path);
  });
});
