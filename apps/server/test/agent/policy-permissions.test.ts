import { mkdtemp, mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentPermissionRules, decidePermission, DESTRUCTIVE_BASH_PATTERNS } from "../../src/agent/policy-permissions.js";
import { KNOWN_PERMISSIONS, type PermissionRule } from "../../src/agent/permissions.js";
import { resolvePolicy } from "../../src/policy/index.js";

/** OpenCode's evaluation: the last rule matching permission and pattern wins ("*" is a wildcard). */
function openCodeAction(rules: PermissionRule[], permission: string, pattern = "x"): string | undefined {
  const glob = (value: string, wildcard: string): boolean =>
    new RegExp(`^${wildcard.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);
  return rules.findLast((rule) => glob(permission, rule.permission) && glob(pattern, rule.pattern))?.action;
}

let worktree: string;
beforeAll(async () => {
  worktree = await mkdtemp(path.join(os.tmpdir(), "kodo-perm-"));
  await mkdir(path.join(worktree, "src"));
});
afterAll(async () => {
  await rm(worktree, { recursive: true, force: true });
});

describe("session rules from the policy", () => {
  it("give every OpenCode permission an explicit rule; the build agent's calls that depend on arguments are judged per call", async () => {
    const rules = await agentPermissionRules(resolvePolicy({}), "build", { worktree, writeRoots: ["."] });
    for (const permission of KNOWN_PERMISSIONS) expect(rules.filter((rule) => rule.permission === permission && rule.pattern === "*")).toHaveLength(1);
    expect(rules[0]).toEqual({ permission: "*", pattern: "*", action: "deny" });
    const expected: Record<string, string> = {
      read: "allow", glob: "allow", grep: "allow", list: "allow", todowrite: "allow",
      edit: "ask", bash: "ask", question: "ask",
      external_directory: "deny", webfetch: "deny", websearch: "deny", task: "deny", doom_loop: "deny", skill: "deny", lsp: "deny",
    };
    for (const [permission, action] of Object.entries(expected)) expect([permission, openCodeAction(rules, permission)]).toEqual([permission, action]);
    expect(openCodeAction(rules, "some_mcp_tool")).toBe("deny");
  });

  it("never let destructive git through unjudged, even where a policy allows every command", async () => {
    const trusting = resolvePolicy({ repoPolicy: { version: 1, rules: [{ id: "trust", tool: "bash", action: "*", effect: "allow" }] } });
    for (const policy of [resolvePolicy({}), trusting]) {
      const rules = await agentPermissionRules(policy, "build", { worktree });
      for (const command of ["git clean -fdx", "git reset --hard HEAD", "git checkout -- .", "git push --force origin main", "git branch -D main"]) {
        expect([command, openCodeAction(rules, "bash", command)]).toEqual([command, "ask"]);
      }
    }
    expect(DESTRUCTIVE_BASH_PATTERNS.length).toBeGreaterThan(5);
    // …and kodo's answer is the policy's deny with its code (the trusting policy keeps the defaults' git rules).
    const ask = { agent: "build" as const, permission: "bash", patterns: ["git clean -fdx"], directory: worktree };
    expect(await decidePermission(trusting, { worktree }, ask)).toMatchObject({ action: "deny", code: "GITCLEANFAIL" });
  });

  it("keep the plan agent read-only whatever the policy allows", async () => {
    const generous = resolvePolicy({ taskPolicy: { version: 1, extends: "none", rules: [{ id: "all", tool: "*", action: "*", effect: "allow" }] } });
    const rules = await agentPermissionRules(generous, "plan", { worktree });
    for (const permission of ["edit", "bash", "task", "webfetch", "external_directory"]) expect(openCodeAction(rules, permission)).toBe("deny");
    // a denied permission's last rule is its `"*": deny`, else OpenCode still offers the tool
    for (const permission of ["edit", "bash", "external_directory"]) expect(rules.findLast((rule) => rule.permission === permission)).toEqual({ permission, pattern: "*", action: "deny" });
    for (const permission of ["read", "glob", "grep", "list"]) expect(openCodeAction(rules, permission)).toBe("allow");
    // the server's own /proc (its environment holds the OpenCode password) stays closed whatever the policy says
    for (const agent of ["plan", "build"] as const) {
      const all = await agentPermissionRules(generous, agent, { worktree });
      expect(openCodeAction(all, "read", "/proc/self/environ")).toBe("deny");
      expect(openCodeAction(all, "external_directory", "/proc/1/environ")).toBe("deny");
    }
  });

  it("allow statically what a policy allows whatever the arguments", async () => {
    const policy = resolvePolicy({ repoPolicy: { version: 1, extends: "none", rules: [{ id: "trust", tool: "bash", action: "*", effect: "allow" }] } });
    const rules = await agentPermissionRules(policy, "build", { worktree });
    expect(openCodeAction(rules, "bash", "ls")).toBe("allow");
    expect(openCodeAction(rules, "edit")).toBe("deny");
  });
});

describe("kodo's answer to an ask", () => {
  const ask = (permission: string, patterns: string[], metadata?: Record<string, unknown>) => ({ agent: "build" as const, permission, patterns, directory: worktree, ...(metadata === undefined ? {} : { metadata }) });

  it("judges a bash command whole, by the policy", async () => {
    const policy = resolvePolicy({});
    expect(await decidePermission(policy, { worktree }, ask("bash", ["pytest -q"], { command: "pytest -q" }))).toMatchObject({ action: "allow", code: "ALLOWED" });
    expect(await decidePermission(policy, { worktree }, ask("bash", ["sh -c 'git clean -fdx'"]))).toMatchObject({ action: "deny", code: "GITCLEANFAIL" });
    expect(await decidePermission(policy, { worktree }, ask("bash", ["rm"], { command: "ls && rm -rf src" }))).toMatchObject({ action: "deny", code: "DENIED_BY_DEFAULT" });
  });

  it("holds edits to the write allowlist", async () => {
    const policy = resolvePolicy({});
    const context = { worktree, writeRoots: ["src"] };
    expect(await decidePermission(policy, context, ask("edit", ["src/new.ts"]))).toMatchObject({ action: "allow" });
    expect(await decidePermission(policy, context, ask("edit", ["README.md"]))).toMatchObject({ action: "deny", code: "MODIFICATIONFAIL" });
    expect(await decidePermission(policy, context, ask("edit", ["src/../../outside.txt"]))).toMatchObject({ action: "deny", code: "MODIFICATIONFAIL" });
  });

  it("sends a policy ask to a person, and never lets the plan agent write", async () => {
    const policy = resolvePolicy({ taskPolicy: { version: 1, rules: [{ id: "ask-npm-install", tool: "bash", action: "run", when: [{ arg: "command", glob: "npm install*" }], effect: "ask" }] } });
    expect(await decidePermission(policy, { worktree }, ask("bash", ["npm install left-pad"]))).toMatchObject({ action: "ask", code: "ASK_REQUIRED" });
    expect(await decidePermission(policy, { worktree }, { ...ask("edit", ["src/a.ts"]), agent: "plan" })).toMatchObject({ action: "deny" });
  });
});
