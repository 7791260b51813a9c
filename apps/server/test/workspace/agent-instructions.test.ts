import { lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { KODO_SECTION_BEGIN, KODO_SECTION_END, commitWork, diffWork, writeAgentInstructions } from "../../src/workspace/worktree.js";
import { checkoutState, git, makeRepo, newWorktree, tempDir, trackedAt, writeFiles } from "./fixtures.js";

const AUTHOR = { name: "kodo", email: "kodo@localhost" };
const INSTRUCTIONS = "Implement the approved plan. Run the tests.";

describe("writeAgentInstructions", () => {
  it("writes AGENTS.md for the agent, and it never reaches the commit (repo has none)", async () => {
    const repo = makeRepo();
    const before = checkoutState(repo);
    const worktree = await newWorktree(repo);

    const written = await writeAgentInstructions(worktree, INSTRUCTIONS);
    const content = readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8");
    expect(written).toEqual({ path: path.join(worktree.path, "AGENTS.md"), mergedWithRepositoryFile: false });
    expect(content.startsWith(KODO_SECTION_BEGIN)).toBe(true);
    expect(content).toContain(INSTRUCTIONS);
    expect(content.trimEnd().endsWith(KODO_SECTION_END)).toBe(true);

    writeFiles(worktree.path, { "feature.txt": "new\n" });
    const result = await commitWork(worktree, "kodo: feature", AUTHOR);
    expect(result.commit).toBeDefined();
    expect(git(worktree.path, ["ls-tree", "-r", "--name-only", "HEAD"]).split("\n")).not.toContain("AGENTS.md");
    expect(result.files.map((file) => file.path)).toEqual(["feature.txt"]);
    expect((await diffWork(worktree)).files.map((file) => file.path)).toEqual(["feature.txt"]);
    // still there for the agent
    expect(readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8")).toBe(content);
    expect(checkoutState(repo)).toEqual(before);
  });

  it("puts the repository's AGENTS.md first and commits only their version", async () => {
    const theirs = "# Project rules\n\nUse tabs.";
    const repo = makeRepo({ "AGENTS.md": theirs, "src/app.txt": "x\n" });
    const before = checkoutState(repo);
    const worktree = await newWorktree(repo);

    expect((await writeAgentInstructions(worktree, INSTRUCTIONS)).mergedWithRepositoryFile).toBe(true);
    const content = readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8");
    expect(content.startsWith(`${theirs}\n\n${KODO_SECTION_BEGIN}\n`)).toBe(true);
    expect(content).toContain(INSTRUCTIONS);

    writeFiles(worktree.path, { "src/app.txt": "changed\n" });
    const result = await commitWork(worktree, "kodo: change", AUTHOR);
    expect(trackedAt(worktree, "HEAD", "AGENTS.md")).toBe(theirs);
    expect(result.files.map((file) => file.path)).toEqual(["src/app.txt"]);
    expect(checkoutState(repo)).toEqual(before);
  });

  it("is idempotent: rewriting replaces kodo's section instead of appending", async () => {
    const repo = makeRepo({ "AGENTS.md": "theirs\n" });
    const worktree = await newWorktree(repo);
    await writeAgentInstructions(worktree, "first version");
    await writeAgentInstructions(worktree, INSTRUCTIONS);
    await writeAgentInstructions(worktree, INSTRUCTIONS);
    const content = readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8");
    expect(content.split(KODO_SECTION_BEGIN)).toHaveLength(2);
    expect(content).not.toContain("first version");
    expect(content.startsWith("theirs\n\n")).toBe(true);
  });

  it("follows a tracked AGENTS.md symlink inside the repository and commits the link unchanged", async () => {
    const repo = makeRepo({ "CLAUDE.md": "claude rules\n" });
    symlinkSync("CLAUDE.md", path.join(repo, "AGENTS.md"));
    git(repo, ["add", "AGENTS.md"]);
    git(repo, ["commit", "-q", "-m", "link"]);
    const worktree = await newWorktree(repo);

    await writeAgentInstructions(worktree, INSTRUCTIONS);
    const agents = path.join(worktree.path, "AGENTS.md");
    expect(lstatSync(agents).isSymbolicLink()).toBe(false);
    expect(readFileSync(agents, "utf8").startsWith("claude rules\n\n")).toBe(true);
    // the link target was not written through
    expect(readFileSync(path.join(worktree.path, "CLAUDE.md"), "utf8")).toBe("claude rules\n");

    const result = await commitWork(worktree, "kodo: nothing", AUTHOR);
    expect(result.commit).toBeUndefined();
    expect((await diffWork(worktree)).files).toEqual([]);
  });

  it("never writes through a symlink planted at AGENTS.md", async () => {
    const repo = makeRepo();
    const worktree = await newWorktree(repo);
    const outside = path.join(tempDir(), "outside.txt");
    writeFileSync(outside, "do not touch\n");
    symlinkSync(outside, path.join(worktree.path, "AGENTS.md"));
    await writeAgentInstructions(worktree, INSTRUCTIONS);
    expect(readFileSync(outside, "utf8")).toBe("do not touch\n");
    expect(lstatSync(path.join(worktree.path, "AGENTS.md")).isFile()).toBe(true);
  });

  it("ignores a tracked symlink that points outside the repository", async () => {
    const repo = makeRepo();
    const outside = path.join(tempDir(), "secret.txt");
    writeFileSync(outside, "secret\n");
    symlinkSync(outside, path.join(repo, "AGENTS.md"));
    git(repo, ["add", "AGENTS.md"]);
    git(repo, ["commit", "-q", "-m", "outside link"]);
    const worktree = await newWorktree(repo);
    const written = await writeAgentInstructions(worktree, INSTRUCTIONS);
    expect(written.mergedWithRepositoryFile).toBe(false);
    expect(readFileSync(path.join(worktree.path, "AGENTS.md"), "utf8")).not.toContain("secret");
    expect(readlinkSync(path.join(repo, "AGENTS.md"))).toBe(outside);
  });
});
