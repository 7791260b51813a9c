import { chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fingerprintWorktree, writeAgentInstructions } from "../../src/workspace/worktree.js";
import { checkoutState, git, makeRepo, newWorktree, worktreeIndexHash, writeFiles } from "./fixtures.js";

describe("fingerprintWorktree", () => {
  it("changes exactly when content changes", async () => {
    const repo = makeRepo({ "README.md": "# demo\n", "src/app.txt": "one\n", ".gitignore": "cache/\n" });
    const before = checkoutState(repo);
    const worktree = await newWorktree(repo);
    const indexBefore = worktreeIndexHash(worktree);
    const fingerprint = (): Promise<string> => fingerprintWorktree(worktree);

    const initial = await fingerprint();
    expect(initial).toMatch(/^[0-9a-f]{64}$/);
    expect(await fingerprint()).toBe(initial);

    // not content: kodo's AGENTS.md, a rewrite with the same bytes
    await writeAgentInstructions(worktree, "plan only");
    writeFiles(worktree.path, { "src/app.txt": "one\n" });
    expect(await fingerprint()).toBe(initial);

    const changes: Array<[string, () => void, () => void]> = [
      ["a tracked edit", () => writeFiles(worktree.path, { "src/app.txt": "two\n" }), () => writeFiles(worktree.path, { "src/app.txt": "one\n" })],
      ["an untracked file", () => writeFiles(worktree.path, { "notes.txt": "x\n" }), () => unlinkSync(path.join(worktree.path, "notes.txt"))],
      ["a deletion", () => unlinkSync(path.join(worktree.path, "README.md")), () => writeFiles(worktree.path, { "README.md": "# demo\n" })],
      ["the executable bit", () => chmodSync(path.join(worktree.path, "src/app.txt"), 0o755), () => chmodSync(path.join(worktree.path, "src/app.txt"), 0o644)],
      ["a symlink", () => symlinkSync("README.md", path.join(worktree.path, "link")), () => unlinkSync(path.join(worktree.path, "link"))],
      ["a self-ignoring .gitignore", () => writeFiles(worktree.path, { "src/.gitignore": "*\n" }), () => unlinkSync(path.join(worktree.path, "src/.gitignore"))],
      ["an ignored file", () => writeFiles(worktree.path, { "cache/tmp.bin": "scratch\n" }), () => rmSync(path.join(worktree.path, "cache"), { recursive: true })],
    ];
    const seen = new Set([initial]);
    for (const [what, change, undo] of changes) {
      change();
      const changed = await fingerprint();
      expect(seen.has(changed), what).toBe(false);
      seen.add(changed);
      undo();
      expect(await fingerprint(), `${what} undone`).toBe(initial);
    }
    expect(worktreeIndexHash(worktree)).toBe(indexBefore);
    expect(checkoutState(repo)).toEqual(before);
  });

  it("covers files inside a nested repository git itself would not hash", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const initial = await fingerprintWorktree(worktree);
    const nested = path.join(worktree.path, "nested");
    mkdirSync(nested);
    git(nested, ["init", "-q"]);
    writeFiles(nested, { "inner.txt": "v1\n" });
    const withNested = await fingerprintWorktree(worktree);
    expect(withNested).not.toBe(initial);
    writeFiles(nested, { "inner.txt": "v2\n" });
    expect(await fingerprintWorktree(worktree)).not.toBe(withNested);
    rmSync(nested, { recursive: true });
    expect(await fingerprintWorktree(worktree)).toBe(initial);
  });

  it("sees a change inside an already ignored file", async () => {
    const repo = makeRepo({ ".gitignore": ".env\n", "app.txt": "x\n" });
    const worktree = await newWorktree(repo);
    writeFiles(worktree.path, { ".env": "TOKEN=a\n" });
    const first = await fingerprintWorktree(worktree);
    writeFiles(worktree.path, { ".env": "TOKEN=b\n" });
    expect(await fingerprintWorktree(worktree)).not.toBe(first);
  });
});
