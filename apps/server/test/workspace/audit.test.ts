import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { auditWorktree, restoreWorktree, takeAuditSnapshot, type AuditSnapshot } from "../../src/workspace/worktree.js";
import { RULES, filesOf, kinds, setup } from "./audit-fixtures.js";
import { git, tempDir, writeFiles } from "./fixtures.js";

describe("takeAuditSnapshot", () => {
  it("records the worktree and its git state as plain JSON that round-trips", async () => {
    const { before, wt, worktree } = await setup();
    expect(before.head).toBe(worktree.baseCommit);
    expect(before.symbolicHead).toBe(`refs/heads/${worktree.branch}`);
    expect(before.refs.map((ref) => ref.name)).toEqual(["refs/heads/kodo/demo-task-ab12cd34", "refs/heads/main", "refs/heads/side"]);
    expect(before.untracked).toEqual(["notes/todo.txt"]);
    expect(before.ignored).toEqual([".env"]);
    expect(before.nestedRepos).toEqual([]);
    expect(before.gitPointer).toMatchObject({ kind: "file" });
    expect(before.gitFiles.find((file) => file.name === "config")?.file).toMatchObject({ kind: "file" });
    expect(before.hooks.length).toBeGreaterThan(0);
    // the tree holds the uncommitted edit and the untracked file, not kodo's AGENTS.md
    expect(git(wt, ["cat-file", "-p", `${before.tree}:src/app.txt`])).toBe("one\ntwo (edited)\nthree\n");
    expect(git(wt, ["cat-file", "-p", `${before.tree}:notes/todo.txt`])).toBe("todo\n");
    expect(() => git(wt, ["cat-file", "-e", `${before.tree}:AGENTS.md`])).toThrow();

    const stored = JSON.parse(JSON.stringify(before)) as AuditSnapshot;
    expect(stored).toEqual(before);
    expect((await auditWorktree(worktree, stored, RULES)).findings).toEqual([]);
  });
});

describe("auditWorktree", () => {
  it("finds nothing when the step only wrote inside its roots, and lists what changed", async () => {
    const { worktree, before } = await setup();
    writeFiles(worktree.path, { "src/app.txt": "rewritten\n", "src/new.txt": "new\n" });
    const report = await auditWorktree(worktree, before, RULES);
    expect(report.findings).toEqual([]);
    expect(report.changedPaths).toEqual(["src/app.txt", "src/new.txt"]);
    expect(report.after?.tree).not.toBe(before.tree);
  });

  it("reports a deleted tracked file, and the deletion allowlist lets it pass", async () => {
    const { worktree, before, wt } = await setup();
    rmSync(path.join(wt, "docs/guide.md"));
    rmSync(path.join(wt, "src/lib/util.txt"));
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["tracked_deleted:docs/guide.md", "tracked_deleted:src/lib/util.txt"]);
    expect(report.findings[0]).toMatchObject({ code: "GITCLEANFAIL", restorable: true });

    const allowed = await auditWorktree(worktree, before, { ...RULES, deletionAllowlist: ["src/**", "docs/*.md"] });
    expect(allowed.findings).toEqual([]);
  });

  it("reports a rename as the deletion of its old path (and the new path when outside the roots)", async () => {
    const { worktree, before, wt } = await setup();
    renameSync(path.join(wt, "src/lib/util.txt"), path.join(wt, "src/lib/helpers.txt"));
    renameSync(path.join(wt, "docs/guide.md"), path.join(wt, "guide.md"));
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["tracked_deleted:docs/guide.md", "tracked_deleted:src/lib/util.txt", "write_outside_allowlist:guide.md"]);
    expect(report.findings.find((finding) => finding.path === "guide.md")).toMatchObject({ from: "docs/guide.md", code: "MODIFICATIONFAIL" });
    expect(report.findings.find((finding) => finding.path === "src/lib/util.txt")?.detail).toContain("renamed to");
    expect(report.changedPaths).toEqual(["docs/guide.md", "guide.md", "src/lib/helpers.txt", "src/lib/util.txt"]);

    const allowed = await auditWorktree(worktree, before, { writeRoots: ["."], deletionAllowlist: ["src/lib/util.txt", "docs/**"] });
    expect(allowed.findings).toEqual([]);
  });

  it("reports git reset --hard over uncommitted work as reverted_to_head, and a staged new file as removed", async () => {
    const { worktree, before, agentGit } = await setup((made) => {
      writeFiles(made.path, { "src/staged.txt": "staged\n" });
      git(made.path, ["add", "src/staged.txt"]);
    });
    agentGit("reset", "-q", "--hard");
    const report = await auditWorktree(worktree, before, RULES);
    // staged, so not untracked: a deletion of a file git tracked
    expect(kinds(report)).toEqual(["reverted_to_head:src/app.txt", "tracked_deleted:src/staged.txt"]);
    expect(report.findings[0]).toMatchObject({ code: "DESTRUCTIVE_GIT", restorable: true });
  });

  it("reports git checkout -- . as reverted_to_head, even inside the write roots", async () => {
    const { worktree, before, agentGit } = await setup();
    agentGit("checkout", "-q", "--", ".");
    expect(kinds(await auditWorktree(worktree, before, { writeRoots: ["."], deletionAllowlist: [] }))).toEqual(["reverted_to_head:src/app.txt"]);
  });

  it("reports git reset --hard to an older commit over uncommitted work", async () => {
    const { worktree, agentGit, wt } = await setup();
    writeFiles(wt, { "src/app.txt": "committed by agent\n" });
    agentGit("commit", "-q", "-am", "agent");
    writeFiles(wt, { "src/app.txt": "more uncommitted\n" });
    const mid = await takeAuditSnapshot(worktree);
    agentGit("reset", "-q", "--hard", "HEAD~1");
    const report = await auditWorktree(worktree, mid, RULES);
    expect(kinds(report)).toEqual(["head_changed:HEAD", "refs_changed:refs/heads/kodo/demo-task-ab12cd34", "reverted_to_head:src/app.txt"]);
  });

  it("reports git clean -fdx: untracked and ignored files removed", async () => {
    const { worktree, before, agentGit } = await setup();
    agentGit("clean", "-q", "-fdx");
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["ignored_removed:.env", "untracked_removed:notes/todo.txt"]);
    expect(report.findings.map((finding) => finding.code)).toEqual(["GITCLEANFAIL", "GITCLEANFAIL"]);
    expect(report.findings.find((finding) => finding.kind === "ignored_removed")?.restorable).toBe(false);
  });

  it("reports writes outside the write roots, deciding by path components", async () => {
    const { worktree, before, wt } = await setup();
    writeFiles(wt, { "docs/guide.md": "changed\n", "src2/x.txt": "prefix trap\n", "srcx": "also\n", "src/ok.txt": "fine\n", "src/lib/deep/ok.txt": "fine\n" });
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["write_outside_allowlist:docs/guide.md", "write_outside_allowlist:src2/x.txt", "write_outside_allowlist:srcx"]);
    expect(report.findings.every((finding) => finding.code === "MODIFICATIONFAIL")).toBe(true);
    expect((await auditWorktree(worktree, before, { writeRoots: ["./src/", "docs", "src2", "srcx"], deletionAllowlist: [] })).findings).toEqual([]);
  });

  it("reports a mode change", async () => {
    const { worktree, before, wt } = await setup();
    chmodSync(path.join(wt, "src/lib/util.txt"), 0o755);
    const report = await auditWorktree(worktree, before, RULES);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "mode_changed", path: "src/lib/util.txt", code: "MODIFICATIONFAIL", restorable: true }),
    ]);
  });

  it("reports deleted and moved refs; a ref checked out elsewhere is not restorable, a new one never is", async () => {
    const { worktree, before, agentGit } = await setup();
    const base = worktree.baseCommit;
    agentGit("branch", "-D", "side");
    writeFiles(worktree.path, { "src/x.txt": "x\n" });
    agentGit("update-ref", "refs/heads/main", git(worktree.path, ["commit-tree", "-m", "evil", `${base}^{tree}`]).trim());
    agentGit("update-ref", "refs/tags/new", base);
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["refs_changed:refs/heads/main", "refs_changed:refs/heads/side", "refs_changed:refs/tags/new"]);
    const byRef = (name: string) => report.findings.find((finding) => finding.path === name);
    expect(byRef("refs/heads/side")).toMatchObject({ code: "GIT_STATE_CHANGED", restorable: true });
    expect(byRef("refs/heads/main")?.restorable).toBe(false);
    expect(byRef("refs/tags/new")?.restorable).toBe(false);
  });

  it("reports a commit and a branch switch by the agent", async () => {
    const { worktree, before, agentGit } = await setup();
    agentGit("commit", "-q", "-am", "agent commit");
    agentGit("checkout", "-q", "-b", "other");
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["branch_changed:HEAD", "head_changed:HEAD", "refs_changed:refs/heads/kodo/demo-task-ab12cd34", "refs_changed:refs/heads/other"]);
  });

  it("reports config, hooks and .git pointer changes, and keeps reading the recorded gitdir", async () => {
    const { worktree, before, agentGit, commonDir, wt } = await setup();
    agentGit("config", "core.editor", "vi");
    writeFileSync(path.join(commonDir, "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(path.join(wt, ".git"), "gitdir: /nonexistent/elsewhere\n");
    writeFiles(wt, { "docs/guide.md": "still seen\n" });
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["config_changed:config", "git_pointer_changed:.git", "hooks_changed:hooks/pre-commit", "write_outside_allowlist:docs/guide.md"]);
    expect(report.findings.filter((finding) => finding.kind !== "write_outside_allowlist").every((finding) => finding.code === "GIT_STATE_CHANGED" && finding.restorable)).toBe(true);
  });

  it("never reads nor writes through a hooks directory replaced by a symlink", async () => {
    const { worktree, before, commonDir } = await setup();
    const elsewhere = tempDir("kodo-elsewhere-");
    writeFileSync(path.join(elsewhere, "secret"), "TOPSECRET");
    writeFileSync(path.join(elsewhere, "pre-commit.sample"), "theirs");
    const hooks = path.join(commonDir, "hooks");
    renameSync(hooks, `${hooks}.moved`);
    symlinkSync(elsewhere, hooks);
    const report = await auditWorktree(worktree, before, RULES);
    expect(report.findings.find((finding) => finding.path === "hooks/.")).toMatchObject({ kind: "hooks_changed", restorable: false });
    expect(JSON.stringify(report)).not.toContain(Buffer.from("TOPSECRET").toString("base64"));

    const restored = await restoreWorktree(worktree, before, report);
    expect(restored.restored).toEqual([]);
    expect(restored.failed.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(elsewhere, "pre-commit.sample"), "utf8")).toBe("theirs");
    expect(readFileSync(path.join(elsewhere, "secret"), "utf8")).toBe("TOPSECRET");
  });

  it("fails closed when the git config is broken, and recovers once it is restored", async () => {
    const { worktree, before, commonDir } = await setup();
    const config = path.join(commonDir, "config");
    writeFileSync(config, `${readFileSync(config, "utf8")}\n[broken\n`);
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["audit_failed:", "config_changed:config"]);
    expect(report.after).toBeNull();
    expect(report.findings.find((finding) => finding.kind === "audit_failed")).toMatchObject({ code: "AUDIT_FAILED", restorable: false });

    const restored = await restoreWorktree(worktree, before, report);
    expect(restored).toEqual({ restored: ["config"], removed: [], failed: [] });
    expect((await auditWorktree(worktree, before, RULES)).findings).toEqual([]);
  });

  it("fails closed when HEAD is broken (git refuses the gitdir), and restores it as a file", async () => {
    const { worktree, before, gitDir, wt } = await setup();
    writeFileSync(path.join(gitDir, "HEAD"), "garbage\n");
    rmSync(path.join(wt, "README.md"));
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["audit_failed:", "head_changed:HEAD"]);
    expect(report.after).toBeNull();

    expect(await restoreWorktree(worktree, before, report)).toEqual({ restored: ["HEAD"], removed: [], failed: [] });
    // git reads the worktree again: now the deletion shows, and is restored in turn
    const second = await auditWorktree(worktree, before, RULES);
    expect(kinds(second)).toEqual(["tracked_deleted:README.md"]);
    await restoreWorktree(worktree, before, second);
    expect((await auditWorktree(worktree, before, RULES)).findings).toEqual([]);
  });

  it("reports a nested repository without a commit, in an untracked or a tracked directory, without failing", async () => {
    const { worktree, before, wt } = await setup();
    writeFiles(wt, { "src/vendor/lib/a.txt": "a\n" });
    git(path.join(wt, "src/vendor/lib"), ["init", "-q"]);
    git(path.join(wt, "docs"), ["init", "-q"]);
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["nested_repo_created:docs", "nested_repo_created:src/vendor/lib"]);
    expect(report.findings[0]).toMatchObject({ code: "NESTED_REPO", restorable: false });
    expect(report.after?.nestedRepos).toEqual(["docs", "src/vendor/lib"]);
  });

  it("never runs a nested repository's fsmonitor or a configured filter driver", async () => {
    const { worktree, before, wt } = await setup();
    const markers = tempDir("kodo-markers-");
    const marker = (name: string): string => path.join(markers, name);
    const script = marker("fsmonitor.sh");
    writeFileSync(script, `#!/bin/sh\ntouch ${JSON.stringify(marker("fsmonitor-ran"))}\nexit 1\n`, { mode: 0o755 });
    mkdirSync(path.join(wt, "tools"));
    git(path.join(wt, "tools"), ["init", "-q"]);
    git(path.join(wt, "tools"), ["config", "core.fsmonitor", script]);
    writeFiles(wt, { "tools/a.txt": "a\n", ".gitattributes": "* filter=evil\n", "docs/guide.md": "edited\n" });
    rmSync(path.join(wt, "README.md"));
    // a filter driver in a config file the restore does not touch (the user's global one)
    const globalConfig = marker("gitconfig");
    writeFileSync(globalConfig, `[filter "evil"]\n\tclean = touch ${marker("clean-ran")}; cat\n\tsmudge = touch ${marker("smudge-ran")}; cat\n\trequired = true\n`);
    const previous = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    try {
      const report = await auditWorktree(worktree, before, { writeRoots: ["."], deletionAllowlist: [] });
      expect(kinds(report)).toEqual(["nested_repo_created:tools", "tracked_deleted:README.md"]);
      const restored = await restoreWorktree(worktree, before, report);
      expect(restored).toEqual({ restored: ["README.md"], removed: [], failed: [] });
      expect(readFileSync(path.join(wt, "README.md"), "utf8")).toBe("# demo\n");
      expect(existsSync(marker("fsmonitor-ran"))).toBe(false);
      expect(existsSync(marker("clean-ran"))).toBe(false);
      expect(existsSync(marker("smudge-ran"))).toBe(false);

      // the traps are real: plain git runs the filter, and git inside the nested repository its fsmonitor
      git(wt, ["hash-object", "docs/guide.md"]);
      expect(existsSync(marker("clean-ran"))).toBe(true);
      git(path.join(wt, "tools"), ["status"]);
      expect(existsSync(marker("fsmonitor-ran"))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = previous;
    }
  });

  it("throws only for invalid rules", async () => {
    const { worktree, before } = await setup();
    await expect(auditWorktree(worktree, before, { writeRoots: ["../outside"], deletionAllowlist: [] })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(auditWorktree(worktree, before, { writeRoots: ["/etc"], deletionAllowlist: [] })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const foreign = await auditWorktree({ ...worktree, path: tempDir() }, before, RULES);
    expect(kinds(foreign)).toEqual(["audit_failed:"]);
  });
});

describe("restoreWorktree", () => {
  it("brings every restorable change back byte-identical, and a second audit is clean", async () => {
    const { worktree, before, wt, agentGit, commonDir, repo } = await setup();
    const files = filesOf(wt);
    const refsBefore = git(repo, ["for-each-ref"]);
    const configBefore = readFileSync(path.join(commonDir, "config"));

    // the agent's step: destructive git, deletions, writes outside the roots, git state changes
    agentGit("checkout", "-q", "--", ".");
    agentGit("clean", "-q", "-fd", "--", "notes");
    rmSync(path.join(wt, "docs/guide.md"));
    renameSync(path.join(wt, "src/lib/util.txt"), path.join(wt, "util-moved.txt"));
    writeFiles(wt, { "README.md": "# hijacked\n", "new-dir/deep/file.txt": "outside\n", "src/allowed.txt": "inside\n" });
    chmodSync(path.join(wt, "scripts/run.sh"), 0o755);
    agentGit("commit", "-q", "-m", "agent commit", "--allow-empty");
    agentGit("branch", "-D", "side");
    agentGit("config", "core.editor", "vi");
    writeFileSync(path.join(commonDir, "hooks", "post-checkout"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    rmSync(path.join(commonDir, "hooks", "pre-commit.sample"));
    const pointer = readFileSync(path.join(wt, ".git"));
    writeFileSync(path.join(wt, ".git"), "gitdir: /nonexistent\n");

    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual([
      "config_changed:config",
      "git_pointer_changed:.git",
      "head_changed:HEAD",
      "hooks_changed:hooks/post-checkout",
      "hooks_changed:hooks/pre-commit.sample",
      "mode_changed:scripts/run.sh",
      "refs_changed:refs/heads/kodo/demo-task-ab12cd34",
      "refs_changed:refs/heads/side",
      "reverted_to_head:src/app.txt",
      "tracked_deleted:docs/guide.md",
      "tracked_deleted:src/lib/util.txt",
      "untracked_removed:notes/todo.txt",
      "write_outside_allowlist:README.md",
      "write_outside_allowlist:new-dir/deep/file.txt",
      "write_outside_allowlist:util-moved.txt",
    ]);
    expect(report.findings.every((finding) => finding.restorable)).toBe(true);

    const restored = await restoreWorktree(worktree, before, report);
    expect(restored.failed).toEqual([]);
    expect(restored.removed.sort()).toEqual(["new-dir/deep/file.txt", "util-moved.txt"]);
    expect(restored.restored).toEqual(expect.arrayContaining([".git", "config", "hooks/post-checkout", "HEAD", "refs/heads/side", "README.md", "src/app.txt", "notes/todo.txt"]));

    // the files: byte-identical, modes too; the agent's allowed write stays
    const { "src/allowed.txt": allowed, ...rest } = filesOf(wt);
    expect(allowed).toBeDefined();
    expect(rest).toEqual(files);
    expect(existsSync(path.join(wt, "new-dir"))).toBe(false);
    expect(readFileSync(path.join(wt, ".git"))).toEqual(pointer);
    expect(readFileSync(path.join(commonDir, "config"))).toEqual(configBefore);
    expect(existsSync(path.join(commonDir, "hooks", "pre-commit.sample"))).toBe(true);
    expect(git(repo, ["for-each-ref"])).toBe(refsBefore);

    rmSync(path.join(wt, "src/allowed.txt"));
    const again = await takeAuditSnapshot(worktree);
    expect(again.tree).toBe(before.tree);
    expect((await auditWorktree(worktree, before, RULES)).findings).toEqual([]);
  });

  it("gives a mode back without undoing an allowed edit, and undoes a rename out of the roots", async () => {
    const { worktree, before, wt } = await setup();
    writeFiles(wt, { "src/lib/util.txt": "allowed edit\n" });
    chmodSync(path.join(wt, "src/lib/util.txt"), 0o755);
    renameSync(path.join(wt, "docs/guide.md"), path.join(wt, "guide.md"));
    const rules = { writeRoots: ["src"], deletionAllowlist: ["docs/**"] };
    const report = await auditWorktree(worktree, before, rules);
    expect(kinds(report)).toEqual(["mode_changed:src/lib/util.txt", "write_outside_allowlist:guide.md"]);

    const restored = await restoreWorktree(worktree, before, report);
    expect(restored).toEqual({ restored: ["src/lib/util.txt", "docs/guide.md"], removed: ["guide.md"], failed: [] });
    expect(readFileSync(path.join(wt, "src/lib/util.txt"), "utf8")).toBe("allowed edit\n");
    expect(filesOf(wt)["src/lib/util.txt"]).toMatch(/^644:/);
    expect(readFileSync(path.join(wt, "docs/guide.md"), "utf8")).toBe("guide\n");
    expect(existsSync(path.join(wt, "guide.md"))).toBe(false);
    expect((await auditWorktree(worktree, before, rules)).findings).toEqual([]);
  });

  it("restores a branch switch, and leaves what changed again since the audit alone", async () => {
    const { worktree, before, agentGit, commonDir } = await setup();
    agentGit("checkout", "-q", "-b", "other");
    agentGit("config", "core.editor", "vi");
    const report = await auditWorktree(worktree, before, RULES);
    expect(kinds(report)).toEqual(["branch_changed:HEAD", "config_changed:config", "refs_changed:refs/heads/other"]);
    // the user edits the shared config between the audit and the restore
    agentGit("config", "user.name", "Someone Else");

    const restored = await restoreWorktree(worktree, before, report);
    expect(restored.restored).toEqual(["HEAD"]);
    expect(restored.failed).toEqual([{ path: "config", error: "config changed again since the audit" }]);
    expect(git(worktree.path, ["symbolic-ref", "HEAD"]).trim()).toBe(`refs/heads/${worktree.branch}`);
    expect(readFileSync(path.join(commonDir, "config"), "utf8")).toContain("Someone Else");
  });
});
