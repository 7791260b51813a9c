/**
 * The default rules on shell commands. Pattern rules are a first line only (the sandbox and the
 * worktree audit are the guarantee), but the obvious spellings, also inside `sh -c`, are caught.
 */
import { describe, expect, it } from "vitest";
import { evaluate, resolvePolicy } from "../../src/policy/index.js";

async function decide(command: string): Promise<{ code: string; matchedRules: string[] }> {
  const decision = await evaluate(resolvePolicy({}), { tool: "bash", action: "run", args: { command } });
  return { code: decision.code, matchedRules: decision.matchedRules };
}

describe("default rules: destructive git", () => {
  it.each([
    ["git clean -f", "git-clean"],
    ["git clean -fd", "git-clean"],
    ["git clean -xdf", "git-clean"],
    ['sh -c "git clean -fd"', "git-clean"],
    ["bash -lc 'cd repo && git clean -fdx'", "git-clean"],
    ["git -C /work/repo clean -f", "git-clean"],
    ["git -c core.x=y clean -f", "git-clean"],
    ["/usr/bin/git clean -f", "git-clean"],
  ])("%s → GITCLEANFAIL", async (command, rule) => {
    // `git` itself is an allowlisted program (bash-allowlisted matches too): the deny wins.
    expect(await decide(command)).toMatchObject({ code: "GITCLEANFAIL", matchedRules: expect.arrayContaining([rule]) as unknown });
  });

  it.each([
    ["git reset --hard", "git-reset-hard"],
    ["git reset -q --hard origin/main", "git-reset-hard"],
    ["git checkout -- .", "git-discard-worktree"],
    ["git checkout .", "git-discard-worktree"],
    ["git checkout -- src/app.py", "git-discard-worktree"],
    ["git checkout -f main", "git-discard-worktree"],
    ["git restore .", "git-discard-worktree"],
    ["git push --force", "git-push-force"],
    ["git push -f origin main", "git-push-force"],
    ["git push --force-with-lease origin main", "git-push-force"],
    ["git push origin +main", "git-push-force"],
    ["git push origin --delete feature", "git-push-force"],
    ["git push origin :feature", "git-push-force"],
    ["git branch -D feature", "git-branch-delete"],
    ["git branch -d feature", "git-branch-delete"],
    ["git branch --delete feature", "git-branch-delete"],
    ['sh -c "git reset --hard HEAD~3"', "git-reset-hard"],
  ])("%s → DESTRUCTIVE_GIT", async (command, rule) => {
    expect(await decide(command)).toMatchObject({ code: "DESTRUCTIVE_GIT", matchedRules: expect.arrayContaining([rule]) as unknown });
  });

  it.each([
    "git status",
    "git log --grep clean",
    "git commit -m 'clean up'",
    "git reset HEAD file.txt",
    "git checkout -b feature",
    "git checkout main",
    "git push origin main",
    "git push -u origin feature",
    "git push origin HEAD:main",
    "git branch --list",
    "git branch -m old new",
    "echo git is clean",
    "legit clean",
  ])("%s is not a destructive git command (allowed as an allowlisted program, or denied by default)", async (command) => {
    const decision = await decide(command);
    expect(decision.matchedRules.filter((rule) => rule !== "bash-allowlisted")).toEqual([]);
    expect(["ALLOWED", "DENIED_BY_DEFAULT"]).toContain(decision.code);
  });
});

describe("default rules: the rest", () => {
  it("denies deletes, network and subagents; allows reads", async () => {
    const policy = resolvePolicy({});
    expect(await evaluate(policy, { tool: "fs", action: "delete", args: { path: "x" } })).toMatchObject({ code: "GITCLEANFAIL" });
    expect(await evaluate(policy, { tool: "webfetch", action: "get", args: {} })).toMatchObject({ code: "NETWORK_DENIED" });
    expect(await evaluate(policy, { tool: "task", action: "spawn", args: {} })).toMatchObject({ code: "DENIED_BY_RULE", matchedRules: ["task-denied"] });
    expect(await evaluate(policy, { tool: "read", action: "file", args: { path: "x" } })).toMatchObject({ allowed: true });
    expect(await evaluate(policy, { tool: "fs", action: "read", args: { path: "x" } })).toMatchObject({ allowed: true });
    expect(await evaluate(policy, { tool: "bash", action: "run", args: {} })).toMatchObject({ code: "ARG_REQUIRED" });
  });
});
