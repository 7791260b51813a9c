/**
 * The scope check's refusals before any path is followed (malformed targets), its roots
 * (ROOT_INVALID), and the one-root form checkPathWithinRoot. Real files in a temp dir.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPathWithinRoot, checkTestTarget, type ScopeDecision } from "../../src/verify/scope.js";

let base: string;
let wt: string;

const check = (target: string | undefined, roots: string[] = ["tests"]): Promise<ScopeDecision> => checkTestTarget({ worktree: wt, roots, target });

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "kodo-scope-input-")));
  wt = path.join(base, "wt");
  for (const dir of ["elsewhere", "wt/tests/sub", "wt/runtime/tests", "wt/src", "wt/~user"]) mkdirSync(path.join(base, dir), { recursive: true });
  for (const file of ["wt/tests/test_a.py", "wt/tests/notes~", "wt/runtime/tests/test_r.py", "wt/src/app.py", "wt/file_root"]) writeFileSync(path.join(base, file), "x\n");
});

afterAll(() => {
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
});

describe("checkTestTarget: malformed targets (TARGET_INVALID, no file system access)", () => {
  it.each([
    ["a NUL byte", "tests/test_a.py\0.txt", "NUL"],
    ["a backslash", "tests\\test_a.py", "backslash"],
    ["a bare ~", "~", "`~`"],
    ["~/path", "~/tests/test_a.py", "`~`"],
    ["~user (even when a directory of that name exists)", "~user", "`~`"],
    ["a newline", "tests/test_a.py\n", "control character"],
    ["an escape character", "tests/\u001b[31m.py", "control character"],
    ["a C1 control", "tests/\u0085.py", "control character"],
    ["a lone surrogate", "tests/\ud800.py", "lone surrogate"],
    ["a leading dash", "-p", "option"],
    ["no path before ::", "::test_one", "no path"],
    ["nothing after ::", "tests/test_a.py::", "no node"],
    ["a path over PATH_MAX", `tests/${"a/".repeat(2100)}x.py`, "longer than"],
  ])("%s", async (_label, target, words) => {
    const decision = await check(target);
    expect(decision).toMatchObject({ allowed: false, code: "TARGET_INVALID", resolved: null, matchedRoot: null });
    expect(decision.reason).toContain(words);
  });

  it("allows a `~` that does not lead, and a NUL-free node id with a backslash", async () => {
    expect(await check("tests/notes~")).toMatchObject({ code: "ALLOWED" });
    expect(await check("tests/test_a.py::test_x[\\u4e2d]")).toMatchObject({ code: "ALLOWED" });
  });

  it("refuses a component over NAME_MAX as the kernel does (ENAMETOOLONG)", async () => {
    expect(await check(`tests/${"a".repeat(300)}.py`)).toMatchObject({ code: "TARGET_INVALID", reason: expect.stringContaining("ENAMETOOLONG") });
  });
});

describe("checkTestTarget: roots", () => {
  it("allows a target in any configured root, naming the one that matched", async () => {
    expect(await check("runtime/tests/test_r.py", ["tests", "runtime/tests"])).toMatchObject({ code: "ALLOWED", matchedRoot: "runtime/tests" });
    expect(await check("runtime/test_r.py", ["tests", "runtime/tests"])).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", matchedRoot: null });
    expect(await check("src/app.py", ["."])).toMatchObject({ code: "ALLOWED", matchedRoot: "." });
    expect(await check("tests/test_a.py", ["src/../tests"])).toMatchObject({ code: "ALLOWED" });
  });

  it.each([
    ["one that escapes the worktree", ["../elsewhere"], "outside the worktree"],
    ["one that escapes among valid ones", ["tests", "../elsewhere"], "outside the worktree"],
    ["one that does not exist", ["nope"], "does not exist"],
    ["a file", ["file_root"], "not a directory"],
    ["an absolute path", ["/tmp"], "absolute"],
    ["an empty string", [""], "empty"],
    ["a ~ root", ["~user"], "`~`"],
    ["a backslash", ["tests\\sub"], "backslash"],
    ["no roots at all", [], "no test roots"],
  ])("ROOT_INVALID for %s", async (_label, roots, words) => {
    const decision = await check("tests/test_a.py", roots);
    expect(decision).toMatchObject({ allowed: false, code: "ROOT_INVALID", resolved: null });
    expect(decision.reason).toContain(words);
  });

  it("ROOT_INVALID for a root that escapes through a symlink, and for a missing worktree", async () => {
    symlinkSync("../elsewhere", path.join(wt, "sneaky"));
    expect(await check("sneaky", ["sneaky"])).toMatchObject({ code: "ROOT_INVALID" });
    expect(await checkTestTarget({ worktree: path.join(base, "gone"), roots: ["tests"], target: "tests/test_a.py" })).toMatchObject({ code: "ROOT_INVALID" });
  });

  it("checks the target's text before the roots (a missing target is TARGET_REQUIRED whatever the roots)", async () => {
    expect(await check(undefined, ["../elsewhere"])).toMatchObject({ code: "TARGET_REQUIRED" });
  });
});

describe("checkPathWithinRoot", () => {
  it("resolves a relative root and path against cwd, or takes them absolute", async () => {
    expect(await checkPathWithinRoot({ root: "tests", path: "tests/test_a.py", cwd: wt })).toMatchObject({
      allowed: true,
      code: "ALLOWED",
      resolved: path.join(wt, "tests/test_a.py"),
      matchedRoot: "tests",
    });
    expect(await checkPathWithinRoot({ root: path.join(wt, "tests"), path: path.join(wt, "tests/sub") })).toMatchObject({ code: "ALLOWED" });
    expect(await checkPathWithinRoot({ root: "wt/tests", path: "wt/tests2/x.py", cwd: base })).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await checkPathWithinRoot({ root: "wt/tests", path: "wt/tests/../src/app.py", cwd: base })).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
  });

  it("uses the same codes for the root and the path", async () => {
    expect(await checkPathWithinRoot({ root: "nope", path: "x", cwd: wt })).toMatchObject({ code: "ROOT_INVALID" });
    expect(await checkPathWithinRoot({ root: "tests", path: " ", cwd: wt })).toMatchObject({ code: "TARGET_REQUIRED" });
    expect(await checkPathWithinRoot({ root: "tests", path: "tests\\x", cwd: wt })).toMatchObject({ code: "TARGET_INVALID" });
    expect(await checkPathWithinRoot({ root: "tests", path: "tests/none.py", cwd: wt })).toMatchObject({ code: "TARGET_NOT_FOUND" });
  });
});
