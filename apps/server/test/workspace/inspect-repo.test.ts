import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inspectRepo } from "../../src/workspace/worktree.js";
import { checkoutState, codeOf, git, kodoErrorOf, makeRepo, tempDir, writeFiles } from "./fixtures.js";

describe("inspectRepo", () => {
  it("resolves the top level and the base commit; a clean checkout is not dirty", async () => {
    const repo = makeRepo();
    const head = git(repo, ["rev-parse", "HEAD"]).trim();
    expect(await inspectRepo(path.join(repo, "src"), "main")).toEqual({ repoRoot: repo, baseCommit: head, dirty: false });
    expect((await inspectRepo(repo, head.slice(0, 10))).baseCommit).toBe(head);
    git(repo, ["tag", "-a", "v1", "-m", "annotated"]);
    expect((await inspectRepo(repo, "v1")).baseCommit).toBe(head);
  });

  it("reports a dirty checkout without touching it", async () => {
    const repo = makeRepo();
    writeFiles(repo, { "src/app.txt": "edited\n", "untracked.txt": "new\n" });
    writeFiles(repo, { "staged.txt": "staged\n" });
    git(repo, ["add", "staged.txt"]);
    const before = checkoutState(repo);
    expect((await inspectRepo(repo, "main")).dirty).toBe(true);
    expect(checkoutState(repo)).toEqual(before);
  });

  it("gives stable codes for bad input", async () => {
    const root = tempDir();
    expect(await codeOf(inspectRepo(path.join(root, "missing"), "main"))).toBe("REPO_NOT_FOUND");
    expect(await codeOf(inspectRepo("", "main"))).toBe("REPO_NOT_FOUND");
    mkdirSync(path.join(root, "plain"));
    expect(await codeOf(inspectRepo(path.join(root, "plain"), "main"))).toBe("REPO_NOT_GIT");
    writeFileSync(path.join(root, "file.txt"), "x");
    expect(await codeOf(inspectRepo(path.join(root, "file.txt"), "main"))).toBe("REPO_NOT_GIT");

    const repo = makeRepo();
    expect(await codeOf(inspectRepo(path.join(repo, ".git"), "main"))).toBe("REPO_NOT_GIT");
    expect(await codeOf(inspectRepo(repo, "no-such-branch"))).toBe("BASE_REF_NOT_FOUND");
    expect(await codeOf(inspectRepo(repo, "--output=/tmp/x"))).toBe("BASE_REF_NOT_FOUND");
    expect(await codeOf(inspectRepo(repo, "main^{tree}"))).toBe("BASE_REF_NOT_FOUND");
    const blob = git(repo, ["rev-parse", "main:README.md"]).trim();
    expect(await codeOf(inspectRepo(repo, blob))).toBe("BASE_REF_NOT_FOUND");
  });

  it("says an empty repository has no commits", async () => {
    const repo = makeRepo({});
    const error = await kodoErrorOf(inspectRepo(repo, "main"));
    expect(error.code).toBe("BASE_REF_NOT_FOUND");
    expect(error.details?.["reason"]).toBe("empty_repository");
  });

  it("treats a bare repository as not a checkout", async () => {
    const bare = path.join(tempDir(), "bare.git");
    git(tempDir(), ["init", "-q", "--bare", bare]);
    expect(await codeOf(inspectRepo(bare, "main"))).toBe("REPO_NOT_GIT");
  });
});
