/**
 * checkTestTarget on real files: plain targets, `..`, siblings, symlinks (relative, absolute,
 * chained, looping, dangling, `link/..`, symlinked roots), hard links, ENOTDIR and EACCES.
 * Every case asserts the exact code. Text validation and roots: scope-input.test.ts.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTestTarget, type ScopeDecision } from "../../src/verify/scope.js";

let base: string; // holds outside/ and wt/
let wt: string;

/** Files (ending in text) and directories (ending in "/") under `base`. */
function layout(entries: readonly string[]): void {
  for (const entry of entries) {
    const full = path.join(base, entry);
    if (entry.endsWith("/")) mkdirSync(full, { recursive: true });
    else {
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, `# ${entry}\n`);
    }
  }
}

const check = (target: string | undefined, roots: string[] = ["tests"]): Promise<ScopeDecision> => checkTestTarget({ worktree: wt, roots, target });
const inWt = (relative: string) => path.join(wt, relative);

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "kodo-scope-")));
  chmodSync(base, 0o755); // searchable by the unprivileged uid of the EACCES case
  wt = path.join(base, "wt");
  layout([
    "outside/secret.py",
    "outside/x.py",
    "outside/inner/",
    "wt/src/app.py",
    "wt/tests/test_a.py",
    "wt/tests/x.py",
    "wt/tests/sub/test_b.py",
    "wt/tests/..foo",
    "wt/tests2/test_c.py",
    "wt/real_tests/test_r.py",
  ]);
});

afterAll(() => {
  if (base === undefined) return;
  if (existsSync(path.join(wt, "tests", "locked"))) chmodSync(path.join(wt, "tests", "locked"), 0o755);
  rmSync(base, { recursive: true, force: true });
});

describe("checkTestTarget: plain paths", () => {
  it("allows a file and a directory inside a root, and the root itself", async () => {
    expect(await check("tests/test_a.py")).toEqual({
      allowed: true,
      code: "ALLOWED",
      reason: expect.stringContaining("inside the root \"tests\""),
      resolved: inWt("tests/test_a.py"),
      matchedRoot: "tests",
    });
    expect(await check("tests/sub")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/sub") });
    expect(await check("./tests/sub/")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/sub") });
    expect(await check("tests")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests") });
    expect(await check(inWt("tests/sub/test_b.py"))).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/sub/test_b.py") });
  });

  it("keeps a ::node suffix out of resolution and in the result", async () => {
    expect(await check("tests/test_a.py::test_one")).toMatchObject({ code: "ALLOWED", resolved: `${inWt("tests/test_a.py")}::test_one` });
    // the suffix is not a path: its `/` and `..` are never resolved
    const node = "::TestSlug::test_case[a/../b]";
    expect(await check(`tests/test_a.py${node}`)).toMatchObject({ code: "ALLOWED", resolved: `${inWt("tests/test_a.py")}${node}` });
    expect(await check("tests/missing.py::test_one")).toMatchObject({ code: "TARGET_NOT_FOUND" });
  });

  it("fails closed on a missing, empty or blank target", async () => {
    for (const target of [undefined, "", "   ", "\t"]) expect(await check(target)).toMatchObject({ allowed: false, code: "TARGET_REQUIRED", resolved: null });
  });

  it("denies `..` that leaves the root, and an absolute path outside", async () => {
    expect(await check("tests/../src/app.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: inWt("src/app.py"), matchedRoot: null });
    expect(await check("tests/sub/../../../outside/secret.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "outside/secret.py") });
    expect(await check("../outside/secret.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await check(path.join(base, "outside/secret.py"))).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await check("/etc/passwd")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: "/etc/passwd" });
    // `..` that stays inside is fine
    expect(await check("tests/sub/../test_a.py")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/test_a.py") });
  });

  it("tells a sibling `tests2` from `tests`, and allows a file named `..foo`", async () => {
    expect(await check("tests2/test_c.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await check("tests2")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await check("tests/..foo")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/..foo") });
  });

  it("says TARGET_NOT_FOUND for a missing file inside, and OUTSIDE for a missing one that would land outside", async () => {
    expect(await check("tests/nope.py")).toMatchObject({ code: "TARGET_NOT_FOUND", resolved: inWt("tests/nope.py"), matchedRoot: "tests" });
    // the kernel stops at `nope` (ENOENT); the would-be path is what the decision names
    expect(await check("tests/nope/../../../outside/secret.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
  });

  it("treats a file used as a directory as not found (ENOTDIR), even when `..` would undo it as text", async () => {
    expect(await check("tests/test_a.py/x")).toMatchObject({ code: "TARGET_NOT_FOUND", resolved: null });
    expect(await check("tests/test_a.py/")).toMatchObject({ code: "TARGET_NOT_FOUND" });
    // path.resolve folds this to tests/test_a.py; the kernel refuses it with ENOTDIR
    expect(await check("tests/test_a.py/../test_a.py")).toMatchObject({ code: "TARGET_NOT_FOUND", reason: expect.stringContaining("ENOTDIR") });
  });

  it("refuses something that is neither a file nor a directory (a FIFO)", async () => {
    execFileSync("mkfifo", [inWt("tests/pipe")]);
    expect(await check("tests/pipe")).toMatchObject({ code: "TARGET_INVALID", matchedRoot: "tests" });
  });
});

describe("checkTestTarget: symlinks", () => {
  it("follows relative and absolute links to where they really point", async () => {
    symlinkSync("test_a.py", inWt("tests/rel_in"));
    symlinkSync("../../outside/secret.py", inWt("tests/rel_out"));
    symlinkSync(inWt("tests/test_a.py"), inWt("tests/abs_in"));
    symlinkSync(path.join(base, "outside/secret.py"), inWt("tests/abs_out"));
    symlinkSync("../src", inWt("tests/dir_out"));
    expect(await check("tests/rel_in")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/test_a.py") });
    expect(await check("tests/rel_out")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "outside/secret.py") });
    expect(await check("tests/abs_in")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/test_a.py") });
    expect(await check("tests/abs_out")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    expect(await check("tests/dir_out/app.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: inWt("src/app.py") });
  });

  it("follows chains, up to 40 links (the kernel's limit) and not one more", async () => {
    symlinkSync("chain_2", inWt("tests/chain_1"));
    symlinkSync(inWt("tests/chain_3"), inWt("tests/chain_2"));
    symlinkSync("../../outside/secret.py", inWt("tests/chain_3"));
    expect(await check("tests/chain_1")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "outside/secret.py") });

    mkdirSync(inWt("tests/long"));
    let previous = "../test_a.py";
    for (let index = 1; index <= 41; index += 1) {
      symlinkSync(previous, inWt(`tests/long/l${index}`));
      previous = `l${index}`;
    }
    expect(await check("tests/long/l40")).toMatchObject({ code: "ALLOWED", resolved: inWt("tests/test_a.py") });
    expect(await check("tests/long/l41")).toMatchObject({ code: "SYMLINK_LOOP", resolved: null });
    // the same limits as `cat`
    expect(() => execFileSync("cat", [inWt("tests/long/l40")])).not.toThrow();
    expect(() => execFileSync("cat", [inWt("tests/long/l41")], { stdio: "ignore" })).toThrow();
  });

  it("says SYMLINK_LOOP for two links pointing at each other, and for a link to itself", async () => {
    symlinkSync("loop_b", inWt("tests/loop_a"));
    symlinkSync("loop_a", inWt("tests/loop_b"));
    symlinkSync("self", inWt("tests/self"));
    expect(await check("tests/loop_a")).toMatchObject({ code: "SYMLINK_LOOP" });
    expect(await check("tests/loop_b/x.py")).toMatchObject({ code: "SYMLINK_LOOP" });
    expect(await check("tests/self")).toMatchObject({ code: "SYMLINK_LOOP" });
  });

  it("denies a dangling link whose target is outside: writing through it creates the file there", async () => {
    symlinkSync("../../outside/created.py", inWt("tests/dangling_out"));
    const created = path.join(base, "outside/created.py");
    expect(await check("tests/dangling_out")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: created });
    await writeFile(inWt("tests/dangling_out"), "print('escaped')\n"); // what the check protects against
    expect(existsSync(created)).toBe(true);
    symlinkSync("/nonexistent-dir/new.py", inWt("tests/dangling_abs"));
    expect(await check("tests/dangling_abs")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: "/nonexistent-dir/new.py" });
  });

  it("decision: a dangling link whose target would be inside is TARGET_NOT_FOUND (nothing to run), naming that target", async () => {
    symlinkSync("sub/not_yet.py", inWt("tests/dangling_in"));
    expect(await check("tests/dangling_in")).toMatchObject({ allowed: false, code: "TARGET_NOT_FOUND", resolved: inWt("tests/sub/not_yet.py"), matchedRoot: "tests" });
  });

  it("resolves `..` after a link against the link's target, as the kernel does (tests/link_out/../x.py)", async () => {
    symlinkSync("../../outside/inner", inWt("tests/link_out"));
    // string arithmetic says tests/x.py, which exists and is inside: the classic mistake
    expect(path.resolve(wt, "tests/link_out/../x.py")).toBe(inWt("tests/x.py"));
    expect(await check("tests/link_out/../x.py")).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "outside/x.py") });
    // the kernel agrees (a template string: path.join would fold the `..` too)
    expect(execFileSync("cat", [`${wt}/tests/link_out/../x.py`], { encoding: "utf8" })).toBe("# outside/x.py\n");
    expect(await check(`${wt}/tests/link_out/../x.py`)).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
  });

  it("resolves a symlinked root to where it really is", async () => {
    symlinkSync("real_tests", inWt("linked_tests"));
    expect(await check("linked_tests/test_r.py", ["linked_tests"])).toMatchObject({ code: "ALLOWED", resolved: inWt("real_tests/test_r.py"), matchedRoot: "linked_tests" });
    expect(await check("real_tests/test_r.py", ["linked_tests"])).toMatchObject({ code: "ALLOWED", matchedRoot: "linked_tests" });
    expect(await check("tests/test_a.py", ["linked_tests"])).toMatchObject({ code: "TARGET_OUTSIDE_ROOTS" });
    symlinkSync("../outside", inWt("root_out"));
    expect(await check("root_out/secret.py", ["root_out"])).toMatchObject({ code: "ROOT_INVALID", reason: expect.stringContaining("outside the worktree") });
  });
});

describe("checkTestTarget: hard links and permissions", () => {
  it("denies a regular file with more than one hard link (HARDLINK_OUTSIDE)", async () => {
    linkSync(path.join(base, "outside/secret.py"), inWt("tests/hard.py"));
    expect(await check("tests/hard.py")).toMatchObject({ allowed: false, code: "HARDLINK_OUTSIDE", resolved: inWt("tests/hard.py"), matchedRoot: "tests" });
    // a directory always has several links; that is not a hard link to anything
    expect(await check("tests/sub")).toMatchObject({ code: "ALLOWED" });
  });

  it("says PERMISSION_DENIED when a directory on the way cannot be searched (EACCES)", async () => {
    // Root ignores permission bits, so as root the check runs with an unprivileged effective uid
    // (seteuid applies to the whole process, libuv's threads included) and switches back at once.
    // Not as root, mode 000 is enough. Either way the kernel's own EACCES is what is tested.
    layout(["wt/tests/locked/test_l.py"]);
    chmodSync(inWt("tests/locked"), 0o000);
    const asRoot = process.getuid?.() === 0;
    if (asRoot && process.seteuid === undefined) throw new Error("running as root without seteuid: cannot drop privileges");
    if (asRoot) process.seteuid?.(65534);
    let decision: ScopeDecision;
    try {
      decision = await check("tests/locked/test_l.py");
    } finally {
      if (asRoot) process.seteuid?.(0);
    }
    expect(decision).toMatchObject({ allowed: false, code: "PERMISSION_DENIED", resolved: null });
    expect(decision.reason).toContain("EACCES");
  });
});
