/**
 * `kodo policy check` and `kodo policy test` as a user runs them: the built binary, real files,
 * no kodo server. Build first: `npx tsc -b apps/cli`.
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPS, assertBuilt, makeScopeLayout, runKodo, type BinaryResult } from "./support/built-binary.js";

const FIXTURES = path.join(APPS, "server", "assets", "policy-fixtures");

let base: string;

function kodo(argv: string[], cwd: string): Promise<BinaryResult> {
  return runKodo(argv, cwd, { PATH: process.env["PATH"] ?? "", HOME: base, KODO_HOME: path.join(base, "home") });
}

describe("kodo policy check / policy test (the built binary)", { timeout: 30_000 }, () => {
  let wt: string;

  beforeAll(() => {
    assertBuilt([
      ["cli/src", "cli/dist"],
      ["server/src/policy", "server/dist/policy"],
    ]);
    ({ base, wt } = makeScopeLayout("kodo-cli-policy-engine-"));
  });
  afterAll(() => {
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it("check: exit 0 and the decision as JSON for an allowed call", async () => {
    const result = await kodo(["policy", "check", "--tool", "tests", "--action", "run", "--arg", "target=tests/test_a.py", "--test-roots", "tests", "--json"], wt);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      allowed: true,
      effect: "allow",
      code: "ALLOWED",
      decisionReason: expect.stringContaining("inside the root") as unknown,
      matchedRules: ["tests-run-in-roots"],
      resolved: path.join(wt, "tests", "test_a.py"),
    });
  });

  it("check: exit 1 for a denial (a symlink escape, destructive git) and for ask", async () => {
    const escape = await kodo(["policy", "check", "--tool", "tests", "--action", "run", "--arg", "target=tests/link.py", "--test-roots", "tests", "--json"], wt);
    expect(escape.code).toBe(1);
    expect(JSON.parse(escape.stdout)).toMatchObject({ allowed: false, code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "secret.py") });
    const clean = await kodo(["policy", "check", "--tool", "bash", "--action", "run", "--arg", 'command=sh -c "git clean -fd"'], wt);
    expect(clean.code).toBe(1);
    expect(clean.stdout).toBe("denied (GITCLEANFAIL): rule git-clean: git clean deletes untracked files [rules: git-clean]\n");
    writeFileSync(path.join(base, "ask.yaml"), "version: 1\nrules:\n  - id: ask-npm\n    tool: bash\n    action: run\n    effect: ask\n");
    const ask = await kodo(["policy", "check", "--tool", "bash", "--action", "run", "--arg", "command=npm i", "--policy", "../ask.yaml", "--json"], wt);
    expect(ask.code).toBe(1);
    expect(JSON.parse(ask.stdout)).toMatchObject({ allowed: false, effect: "ask", code: "ASK_REQUIRED", matchedRules: ["ask-npm", "bash-allowlisted"] });
  });

  it("check: exit 2 for usage mistakes and for an invalid policy file (with its line and column)", async () => {
    expect((await kodo(["policy", "check", "--action", "run"], wt)).code).toBe(2);
    const badArg = await kodo(["policy", "check", "--tool", "x", "--action", "y", "--arg", "novalue"], wt);
    expect(badArg.code).toBe(2);
    expect(badArg.stderr).toContain('--arg must be KEY=VALUE, got "novalue"');
    writeFileSync(path.join(base, "bad.json"), '{\n  "version": 1,\n  "rules": [\n    {"id": "a", "tool": "x", "action": "y", "effect": "permit"}\n  ]\n}\n');
    const bad = await kodo(["policy", "check", "--tool", "x", "--action", "y", "--policy", path.join(base, "bad.json"), "--json"], wt);
    expect(bad.code).toBe(2);
    const document = JSON.parse(bad.stdout) as { error: { code: string; message: string } };
    expect(document.error.code).toBe("POLICY_INVALID");
    expect(document.error.message).toMatch(new RegExp(`^${path.join(base, "bad.json").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:4:55: rules\\[0\\]\\.effect: `));
  });

  it("test: the shipped fixtures all pass (exit 0)", async () => {
    const result = await kodo(["policy", "test", FIXTURES], base);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines.filter((line) => line.startsWith("PASS ")).length).toBeGreaterThanOrEqual(20);
    expect(lines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it("test: a wrong expectation fails (exit 1) and the mismatch is reported", async () => {
    const dir = path.join(base, "broken-fixtures");
    cpSync(FIXTURES, dir, { recursive: true });
    writeFileSync(
      path.join(dir, "99-wrong.json"),
      JSON.stringify({ name: "webfetch is surely allowed", request: { tool: "webfetch", action: "get", args: {} }, expect: { allowed: true, code: "ALLOWED" } }),
    );
    writeFileSync(path.join(dir, "98-not-a-fixture.json"), JSON.stringify({ name: "no request", expect: { allowed: true, code: "ALLOWED" } }));
    const result = await kodo(["policy", "test", dir], base);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("FAIL 99-wrong.json: webfetch is surely allowed\n  allowed: expected true, got false\n  code: expected ALLOWED, got NETWORK_DENIED\n");
    expect(result.stdout).toContain("FAIL 98-not-a-fixture.json: 98-not-a-fixture.json\n  not a valid fixture: request: ");
    expect(result.stdout.trim().split("\n").at(-1)).toMatch(/^\d+ passed, 2 failed$/);
    const json = await kodo(["policy", "test", dir, "--json"], base);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ failed: 2 });
  });

  it("both are listed in kodo --help and kodo policy --help", async () => {
    const help = await kodo(["--help"], base);
    expect(help.stdout).toMatch(/Policy:\n\s+policy check-path PATH .*\n\s+policy check\s+What would the policy decide.*\n\s+policy test DIR\s+Run a folder of policy fixtures/);
    const group = await kodo(["policy", "--help"], base);
    expect(group.stdout).toContain("Usage: kodo policy <check-path|check|test> [options]");
  });

  it("test: exit 2 for a missing or empty directory", async () => {
    expect((await kodo(["policy", "test", path.join(base, "nope")], base)).code).toBe(2);
    mkdirSync(path.join(base, "empty"));
    const empty = await kodo(["policy", "test", path.join(base, "empty")], base);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no *.json fixtures");
  });
});
