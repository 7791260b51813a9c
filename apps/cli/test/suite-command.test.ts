/**
 * `kodo suite run` as a user runs it: the built binary, a real repository, real exit codes. The
 * runs here fail fast before any model call (a dirty tree, an OpenCode that cannot start), so they
 * stay quick; the passing suite and the other failures are tested in apps/server/test/suite/.
 * Build first: `npx tsc -b apps/cli`.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runKodo, type BinaryResult } from "./support/built-binary.js";

let base = "";
let repo = "";

function kodo(argv: string[]): Promise<BinaryResult> {
  return runKodo(argv, base, { PATH: process.env["PATH"] ?? "", HOME: base, KODO_HOME: path.join(base, "home") });
}

function git(...args: string[]): void {
  execFileSync("git", ["-c", "user.name=kodo", "-c", "user.email=kodo@example.invalid", ...args], { cwd: repo, stdio: "ignore" });
}

describe("kodo suite run (the built binary)", { timeout: 60_000 }, () => {
  beforeAll(() => {
    assertBuilt([
      ["cli/src", "cli/dist"],
      ["server/src/suite", "server/dist/suite"],
    ]);
    base = mkdtempSync(path.join(os.tmpdir(), "kodo-cli-suite-"));
    repo = path.join(base, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    writeFileSync(path.join(repo, "README.md"), "# under test\n");
    git("add", "README.md");
    git("commit", "-q", "-m", "init");
  });
  afterAll(() => {
    if (base !== "") rmSync(base, { recursive: true, force: true });
  });

  it("exits 2 with the usage for an unknown stage or case, or --repo with --worktree", async () => {
    for (const argv of [
      ["--stages", "T1,T9"],
      ["--case", "T1C99"],
      ["--repo", "repo", "--worktree", "repo"],
      ["--stages", "T1", "--case", "T2B03"],
    ]) {
      const result = await kodo(["suite", "run", ...argv]);
      expect(result.code, argv.join(" ")).toBe(2);
      expect(result.stderr).toContain("kodo: USAGE: ");
      expect(result.stderr).toContain("Usage: kodo suite run [--stages T1,T2a,T2b,T3,T4]");
    }
  });

  it("exits 4 (REPO_DIRTY) when the tree is not clean, and starts no run", async () => {
    writeFileSync(path.join(repo, "scratch.txt"), "uncommitted\n");
    try {
      const result = await kodo(["suite", "run", "--repo", "repo", "--json"]);
      expect(result.code).toBe(4);
      expect((JSON.parse(result.stdout) as { error: { code: string } }).error.code).toBe("REPO_DIRTY");
    } finally {
      rmSync(path.join(repo, "scratch.txt"));
    }
  });

  it("exits 1 when the suite fails: OpenCode cannot start (CLIFAIL), --fail-fast skips the rest; --json prints the report", async () => {
    // the suite's OpenCode state directory is taken by a file
    mkdirSync(path.join(base, "home"), { recursive: true });
    writeFileSync(path.join(base, "home", "opencode-suite"), "not a directory\n");
    const json = await kodo(["suite", "run", "--repo", "repo", "--stages", "T1", "--fail-fast", "--json"]);
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout) as { runId: string; summary: { final_verdict: string; failed: number; skipped: number }; failures: { caseId: string; code: string }[] };
    expect(report.runId).toBe("RUN_0001");
    expect(report.summary).toMatchObject({ final_verdict: "FAIL", failed: 1, skipped: 14 });
    expect(report.failures).toEqual([expect.objectContaining({ caseId: "T1C01", code: "CLIFAIL" })]);

    const text = await kodo(["suite", "run", "--repo", "repo", "--case", "t1c01", "--ledger", "ledger"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^T1C01 {2}T1 {3}Direct client ping +FAIL {2}FAIL CLIFAIL +\d+ ms$/m);
    expect(text.stdout).toContain("FAIL: 0 passed, 1 failed, 14 skipped (RUN_0001, model scripted-1, offline)");
    expect(text.stdout).toContain(`ledger:   ${path.join(base, "ledger", "RUN_0001")}`);
    expect(text.stdout).toMatch(/worktree: kept \S+suite-run-0001-\w+ for inspection/);
  });
});
