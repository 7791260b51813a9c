/**
 * `kodo policy check-path` as a user runs it: the built binary, real files, no kodo server
 * (KODO_HOME is an empty directory and KODO_URL is unset). Build first: `npx tsc -b apps/cli`.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, makeScopeLayout, runKodo, type BinaryResult } from "./support/built-binary.js";

let base: string;

function kodo(argv: string[], cwd: string): Promise<BinaryResult> {
  return runKodo(argv, cwd, { PATH: process.env["PATH"] ?? "", HOME: base, KODO_HOME: path.join(base, "home") });
}

describe("kodo policy check-path (the built binary)", { timeout: 30_000 }, () => {
  let wt: string;

  beforeAll(() => {
    assertBuilt([
      ["cli/src", "cli/dist"],
      ["server/src/verify", "server/dist/verify"],
    ]);
    ({ base, wt } = makeScopeLayout("kodo-cli-policy-"));
  });
  afterAll(() => {
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it("exits 0 and prints {allowed, code, reason, resolved} for a path inside the root", async () => {
    const result = await kodo(["policy", "check-path", "--root", "tests", "tests/test_a.py::test_a", "--json"], wt);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(document).sort()).toEqual(["allowed", "code", "reason", "resolved"]);
    expect(document).toMatchObject({ allowed: true, code: "ALLOWED", resolved: `${path.join(wt, "tests", "test_a.py")}::test_a` });
    expect(document["reason"]).toEqual(expect.stringContaining("inside the root"));
  });

  it("exits 1 for a denied path: JSON with the code, or one human line", async () => {
    const json = await kodo(["--json", "policy", "check-path", "--root", "tests", "tests/link.py"], wt);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ allowed: false, code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "secret.py") });

    const human = await kodo(["policy", "check-path", "--root", path.join(wt, "tests"), "../secret.py"], wt);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^denied \(TARGET_OUTSIDE_ROOTS\): "\.\.\/secret\.py" resolves to .*\n$/);
    expect(human.stderr).toBe("");

    const emptyRoot = await kodo(["policy", "check-path", "--root", "", "tests/test_a.py"], wt);
    expect(emptyRoot.code).toBe(1);
    expect(emptyRoot.stdout).toContain("denied (ROOT_INVALID)");
  });

  it("exits 2 with the usage when --root or PATH is missing", async () => {
    for (const argv of [["policy", "check-path", "tests/test_a.py"], ["policy", "check-path", "--root", "tests"], ["policy", "check-path", "--root"]]) {
      const result = await kodo(argv, wt);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Usage: kodo policy check-path --root DIR PATH [--json]");
    }
    const json = await kodo(["policy", "check-path", "tests/test_a.py", "--json"], wt);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "USAGE", message: "--root is required" } });
  });

  it("is listed in kodo --help", async () => {
    const result = await kodo(["--help"], wt);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Policy:\n\s+policy check-path PATH\s+Is PATH inside/);
  });
});
