/**
 * evaluate(): deny by default, deny beats ask beats allow, requires → ARG_REQUIRED, wildcards,
 * equals/glob/regex/not, and `within` on real files (symlink escape, missing worktree).
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate, PolicySchema, resolvePolicy, type PolicyRequest } from "../../src/policy/index.js";
import { matchesGlob } from "../../src/policy/glob.js";

/** Only these rules (no defaults). */
function only(rules: unknown[]): ReturnType<typeof resolvePolicy> {
  return resolvePolicy({ repoPolicy: PolicySchema.parse({ version: 1, extends: "none", rules }) });
}

const call = (tool: string, action: string, args: Record<string, string> = {}, context: PolicyRequest["context"] = {}): PolicyRequest => ({ tool, action, args, context });

describe("evaluate", () => {
  it("denies by default, with no matched rule", async () => {
    expect(await evaluate(only([]), call("bash", "run", { command: "ls" }))).toEqual({
      allowed: false,
      effect: "deny",
      code: "DENIED_BY_DEFAULT",
      decisionReason: "no rule allows bash run (deny by default)",
      matchedRules: [],
    });
    expect(await evaluate(only([]), call("", "run"))).toMatchObject({ allowed: false, code: "ARG_REQUIRED" });
  });

  it("lets deny beat ask beat allow whatever their order, and lists every match", async () => {
    const policy = only([
      { id: "allow-all", tool: "*", action: "*", effect: "allow" },
      { id: "ask-bash", tool: "bash", action: "*", effect: "ask", reason: "a person decides" },
      { id: "deny-rm", tool: "bash", action: "run", when: [{ arg: "command", regex: "\\brm\\b" }], effect: "deny", code: "PERMISSION_DENIED" },
    ]);
    expect(await evaluate(policy, call("read", "file"))).toMatchObject({ allowed: true, effect: "allow", code: "ALLOWED", matchedRules: ["allow-all"] });
    expect(await evaluate(policy, call("bash", "run", { command: "ls" }))).toMatchObject({
      allowed: false,
      effect: "ask",
      code: "ASK_REQUIRED",
      decisionReason: "rule ask-bash: a person decides",
      matchedRules: ["allow-all", "ask-bash"],
    });
    expect(await evaluate(policy, call("bash", "run", { command: "rm -rf x" }))).toMatchObject({
      allowed: false,
      effect: "deny",
      code: "PERMISSION_DENIED",
      matchedRules: ["allow-all", "ask-bash", "deny-rm"],
    });
  });

  it("fails closed on a missing or blank required argument, whatever the rule's effect", async () => {
    const policy = only([{ id: "deploy", tool: "deploy", action: "run", requires: ["env", "ref"], effect: "allow" }]);
    const missing = await evaluate(policy, call("deploy", "run", { env: "prod", ref: "  " }));
    expect(missing).toMatchObject({ allowed: false, effect: "deny", code: "ARG_REQUIRED", matchedRules: ["deploy"] });
    expect(missing.decisionReason).toContain('"ref"');
    expect(await evaluate(policy, call("deploy", "run", { env: "prod", ref: "main" }))).toMatchObject({ allowed: true });
  });

  it("matches tool and action exactly or by *", async () => {
    const policy = only([
      { id: "any-tool-delete", tool: "*", action: "delete", effect: "deny" },
      { id: "fs-any", tool: "fs", action: "*", effect: "allow" },
    ]);
    expect(await evaluate(policy, call("db", "delete"))).toMatchObject({ code: "DENIED_BY_RULE", matchedRules: ["any-tool-delete"] });
    expect(await evaluate(policy, call("fs", "read"))).toMatchObject({ allowed: true, matchedRules: ["fs-any"] });
    expect(await evaluate(policy, call("FS", "read"))).toMatchObject({ code: "DENIED_BY_DEFAULT" });
  });

  it("applies equals, glob, regex and not; an absent argument satisfies no condition", async () => {
    const policy = only([
      { id: "eq", tool: "t", action: "a", when: [{ arg: "mode", equals: "safe" }], effect: "allow" },
      { id: "glob", tool: "t", action: "b", when: [{ arg: "file", glob: "src/**/*.ts" }], effect: "allow" },
      { id: "re", tool: "t", action: "c", when: [{ arg: "cmd", regex: "^npm (test|run lint)$" }], effect: "allow" },
      { id: "not", tool: "t", action: "d", when: [{ arg: "host", equals: "evil.example", not: true }], effect: "allow" },
    ]);
    const allowed = async (action: string, args: Record<string, string>): Promise<boolean> => (await evaluate(policy, call("t", action, args))).allowed;
    expect(await allowed("a", { mode: "safe" })).toBe(true);
    expect(await allowed("a", { mode: "Safe" })).toBe(false);
    expect(await allowed("b", { file: "src/a/b/c.ts" })).toBe(true);
    expect(await allowed("b", { file: "src/c.ts" })).toBe(true);
    expect(await allowed("b", { file: "test/c.ts" })).toBe(false);
    expect(await allowed("c", { cmd: "npm run lint" })).toBe(true);
    expect(await allowed("c", { cmd: "npm run build" })).toBe(false);
    expect(await allowed("d", { host: "good.example" })).toBe(true);
    expect(await allowed("d", { host: "evil.example" })).toBe(false);
    expect(await allowed("d", {})).toBe(false);
    expect(await allowed("a", { constructor: "safe" })).toBe(false);
  });
});

describe("glob", () => {
  it("has *, **, ?, classes and escapes", () => {
    expect(matchesGlob("a/b.ts", "a/*.ts")).toBe(true);
    expect(matchesGlob("a/b/c.ts", "a/*.ts")).toBe(false);
    expect(matchesGlob("a/b/c.ts", "a/**")).toBe(true);
    expect(matchesGlob("ab", "a?")).toBe(true);
    expect(matchesGlob("a/", "a?")).toBe(false);
    expect(matchesGlob("x1", "x[0-9]")).toBe(true);
    expect(matchesGlob("x1", "x[!0-9]")).toBe(false);
    expect(matchesGlob("a*b", "a\\*b")).toBe(true);
    expect(matchesGlob("axb", "a\\*b")).toBe(false);
    expect(matchesGlob("f(1).txt", "f(1).txt")).toBe(true);
    expect(matchesGlob("f11txt", "f(1).txt")).toBe(false);
  });
});

describe("within (real files)", () => {
  let base: string;
  let wt: string;

  beforeAll(() => {
    base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "kodo-policy-within-")));
    wt = path.join(base, "wt");
    mkdirSync(path.join(wt, "tests"), { recursive: true });
    mkdirSync(path.join(wt, "src"));
    writeFileSync(path.join(wt, "tests", "test_a.py"), "def test_a(): pass\n");
    writeFileSync(path.join(base, "secret.py"), "x\n");
    symlinkSync("../../secret.py", path.join(wt, "tests", "escape.py"));
    symlinkSync("loop-b", path.join(wt, "tests", "loop-a"));
    symlinkSync("loop-a", path.join(wt, "tests", "loop-b"));
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  const testsRun = (target: string | undefined, context: PolicyRequest["context"]): PolicyRequest =>
    call("tests", "run", target === undefined ? {} : { target }, context);

  it("allows a target inside the test roots and returns the resolved path", async () => {
    const decision = await evaluate(resolvePolicy({}), testsRun("tests/test_a.py::test_a", { worktree: wt, testRoots: ["tests"] }));
    expect(decision).toMatchObject({ allowed: true, code: "ALLOWED", matchedRules: ["tests-run-in-roots"], resolved: `${path.join(wt, "tests", "test_a.py")}::test_a` });
  });

  it("denies a symlink that escapes the roots with the scope check's code and the real path", async () => {
    const decision = await evaluate(resolvePolicy({}), testsRun("tests/escape.py", { worktree: wt, testRoots: ["tests"] }));
    expect(decision).toMatchObject({ allowed: false, effect: "deny", code: "TARGET_OUTSIDE_ROOTS", matchedRules: ["tests-run-in-roots"], resolved: path.join(base, "secret.py") });
    expect(decision.decisionReason).toContain("outside the allowed roots");
  });

  it("passes the other scope codes through", async () => {
    const context = { worktree: wt, testRoots: ["tests"] };
    expect(await evaluate(resolvePolicy({}), testsRun("tests/loop-a", context))).toMatchObject({ code: "SYMLINK_LOOP" });
    expect(await evaluate(resolvePolicy({}), testsRun("tests/nope.py", context))).toMatchObject({ code: "TARGET_NOT_FOUND" });
    expect(await evaluate(resolvePolicy({}), testsRun("tests/test_a.py", { worktree: wt, testRoots: ["missing"] }))).toMatchObject({ code: "ROOT_INVALID" });
    expect(await evaluate(resolvePolicy({}), testsRun("tests/test_a.py", { testRoots: ["tests"] }))).toMatchObject({ code: "WORKTREE_REQUIRED" });
    expect(await evaluate(resolvePolicy({}), testsRun(undefined, context))).toMatchObject({ code: "ARG_REQUIRED", matchedRules: ["tests-run-in-roots"] });
  });

  it("fails closed on a negated within: any refusal (outside, loop, no worktree) counts as outside", async () => {
    const write = (target: string, context: PolicyRequest["context"]): PolicyRequest => call("fs", "write", { path: target }, context);
    const context = { worktree: wt, writeRoots: ["src"] };
    expect(await evaluate(resolvePolicy({}), write("src/new.ts", context))).toMatchObject({ allowed: true, matchedRules: ["fs-write-inside"], resolved: path.join(wt, "src", "new.ts") });
    expect(await evaluate(resolvePolicy({}), write("tests/escape.py", context))).toMatchObject({ code: "MODIFICATIONFAIL", matchedRules: ["fs-write-outside"] });
    expect(await evaluate(resolvePolicy({}), write("tests/loop-a", { worktree: wt, writeRoots: ["tests"] }))).toMatchObject({ code: "MODIFICATIONFAIL" });
    expect(await evaluate(resolvePolicy({}), write("src/new.ts", { writeRoots: ["src"] }))).toMatchObject({ code: "MODIFICATIONFAIL" });
    expect(await evaluate(resolvePolicy({}), write("src/new.ts", { worktree: wt }))).toMatchObject({ code: "MODIFICATIONFAIL" });
  });
});
