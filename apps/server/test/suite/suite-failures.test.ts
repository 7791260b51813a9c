/**
 * The seed's failing verification rows, each provoked for real: F01 the OpenCode client cannot
 * start (CLIFAIL), F05 an agent writes outside the write allowlist (MODIFICATIONFAIL), F06 the
 * writing stages in a checkout that is not a kodo worktree (WORKTREE_REQUIRED); plus the stage
 * gate, --fail-fast and Ctrl-C. Real git, real OpenCode, the scripted model (a hostile script for F05).
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseScript } from "../../src/model/scripted/script.js";
import { runSuite } from "../../src/suite/run-suite.js";
import { runGit } from "../../src/workspace/git.js";
import { digestCheckout, evidenceText, leftovers, readResult, repositoryUnderTest, sidecarProblems, suiteHome, type SuiteHome } from "./support.js";

const homes: SuiteHome[] = [];
async function newHome(prefix: string): Promise<SuiteHome> {
  const home = await suiteHome(prefix);
  homes.push(home);
  return home;
}

afterAll(async () => {
  for (const home of homes) await home.cleanup();
});

/** Writes next to the suite's worktree, in the worktrees root (writable for `kodo serve`'s agent, not for the suite's). */
const ESCAPE = `node -e "require('fs').writeFileSync('../suite-escape.txt', 'out')"`;

function statuses(cases: readonly { case_id: string; status: string; failure_code: string | null }[]): string[] {
  return cases.filter((entry) => entry.status !== "SKIPPED").map((entry) => `${entry.case_id} ${entry.status} ${entry.failure_code ?? "-"}`);
}

describe("the suite's failures", () => {
  it("F01 [T1]: the OpenCode client cannot start → T1C01 fails CLIFAIL; --fail-fast skips the rest; without it the stage gate stops T2a", async () => {
    const home = await newHome("f01");
    const repo = await repositoryUnderTest(home.base);
    // OpenCode's state directory is taken by a file: the server cannot be started
    await mkdir(home.home, { recursive: true });
    await writeFile(home.stateDir, "not a directory\n");

    const fast = await runSuite({ config: home.config, repo, stages: ["T1"], failFast: true });
    expect(fast.runId).toBe("RUN_0001");
    expect(statuses(fast.summary.cases)).toEqual(["T1C01 FAIL CLIFAIL"]);
    expect(fast.summary).toMatchObject({ final_verdict: "FAIL", passed: 0, failed: 1, skipped: 14 });
    expect(fast.summary.stop_reason).toMatch(/^--fail-fast: T1C01 failed \(CLIFAIL: the OpenCode client failed: /);
    expect(await readResult(fast.runDir, "T1C01")).toMatchObject({ actual_outcome: "FAIL", failure_code: "CLIFAIL", status: "FAIL", model_id: null, transport: null });
    expect(await evidenceText(fast.runDir, "T1C01", "stderr.txt")).toContain("CLIFAIL: the OpenCode client failed");
    // a failed run keeps its worktree for inspection
    expect(fast.workspace.removed).toBe(false);
    expect((await stat(fast.workspace.directory ?? "")).isDirectory()).toBe(true);

    const gated = await runSuite({ config: home.config, repo, stages: ["T1", "T2a"] });
    expect(gated.runId).toBe("RUN_0002");
    expect(statuses(gated.summary.cases)).toEqual(["T1C01 FAIL CLIFAIL", "T1C02 FAIL CLIFAIL", "T1C03 FAIL CLIFAIL"]);
    expect(gated.summary.stop_reason).toBe("stage T1 did not pass (T1C01, T1C02, T1C03 failed): T2a and later stages are skipped");
    expect(gated.summary).toMatchObject({ failed: 3, skipped: 12, final_verdict: "FAIL" });
    expect(await sidecarProblems(gated.runDir)).toEqual([]);
  });

  it("F05 [T2b]: a write outside the allowlist fails MODIFICATIONFAIL (policy and audit), is undone, and stops the suite at once; the sandbox stops a write out of the tree", async () => {
    const home = await newHome("f05");
    const repo = await repositoryUnderTest(home.base);
    const before = await digestCheckout(repo);
    const hostile = parseScript(
      {
        version: 1,
        rules: [
          { name: "write-outside", when: { user: "KODO-SUITE:T2B01", toolResults: 0 }, reply: { toolCalls: [{ name: "write", arguments: { filePath: "{{directory}}/suite-outside.md", content: "outside\n" } }] } },
          { name: "copy-outside", when: { user: "KODO-SUITE:T2B01", toolResults: 1 }, reply: { toolCalls: [{ name: "bash", arguments: { command: "cp scripts/opencode_dogfood/POLICY.md POLICY.copy.md", description: "copy" } }] } },
          // out of the tree altogether, spelled so that neither OpenCode nor the policy sees a path: the sandbox stops it
          { name: "escape", when: { user: "KODO-SUITE:T2B01", toolResults: 2 }, reply: { toolCalls: [{ name: "bash", arguments: { command: ESCAPE, description: "escape" } }] } },
          { name: "done", when: { user: "KODO-SUITE:T2B01", toolResults: 3 }, reply: { text: "Done." } },
        ],
      },
      "hostile.json",
    );
    const report = await runSuite({ config: home.config, repo, stages: ["T2b"], modelScript: hostile });
    expect(statuses(report.summary.cases)).toEqual(["T2B01 FAIL MODIFICATIONFAIL"]);
    expect(report.summary).toMatchObject({ final_verdict: "FAIL", failed: 1, skipped: 14 });
    expect(report.summary.stop_reason).toMatch(/^T2B01 failed with MODIFICATIONFAIL: a safety rail stops the suite at once/);
    const stderr = await evidenceText(report.runDir, "T2B01", "stderr.txt");
    expect(stderr).toMatch(/policy: denied edit "[^"]*suite-outside\.md" \(MODIFICATIONFAIL\)/);
    expect(stderr).toContain("policy: allowed bash \"cp scripts/opencode_dogfood/POLICY.md POLICY.copy.md\" (ALLOWED)");
    expect(stderr).toContain("audit: MODIFICATIONFAIL write_outside_allowlist POLICY.copy.md");
    expect(stderr).toContain("audit: removed POLICY.copy.md");
    expect(stderr).toContain("new file POLICY.copy.md → item_01.md");
    // the evidence keeps what the agent wrote; the worktree (kept: the run failed) no longer has it
    expect(await evidenceText(report.runDir, "T2B01", "item_01.md")).toBe(await readFile(path.join(report.workspace.directory ?? "", "scripts/opencode_dogfood/POLICY.md"), "utf8"));
    expect(report.workspace.removed).toBe(false);
    expect(await stat(path.join(report.workspace.directory ?? "", "POLICY.copy.md")).catch(() => undefined)).toBeUndefined();
    expect(await stat(path.join(report.workspace.directory ?? "", "suite-outside.md")).catch(() => undefined)).toBeUndefined();
    expect((await runGit(["status", "--porcelain"], { cwd: report.workspace.directory ?? "" })).stdout).toBe("");
    expect(stderr).toContain(`policy: allowed bash ${JSON.stringify(ESCAPE)} (ALLOWED)`);
    expect(await stat(path.join(home.home, "worktrees", "suite-escape.txt")).catch(() => undefined)).toBeUndefined();
    expect(await digestCheckout(repo)).toBe(before);
    expect(leftovers(home.stateDir)).toEqual([]);
  });

  it("F06 [T2b]: in a checkout that is not a kodo worktree the read-only stages run, T2B01 refuses with WORKTREE_REQUIRED and the suite stops", async () => {
    const home = await newHome("f06");
    // the seed's layout: the fixtures are committed in the user's own checkout, and the suite is pointed at it
    const repo = await repositoryUnderTest(home.base, { fixtures: true });
    const before = await digestCheckout(repo);
    const report = await runSuite({ config: home.config, worktree: repo, stages: ["T2a", "T2b"] });
    expect(statuses(report.summary.cases)).toEqual(["T2A01 PASS -", "T2A02 PASS -", "T2A03 PASS -", "T2B01 FAIL WORKTREE_REQUIRED"]);
    expect(report.summary).toMatchObject({ final_verdict: "FAIL", passed: 3, failed: 1, skipped: 11 });
    expect(report.summary.stop_reason).toMatch(/^T2B01 failed with WORKTREE_REQUIRED: a safety rail stops the suite at once/);
    expect(await readResult(report.runDir, "T2B01")).toMatchObject({ actual_outcome: "FAIL", failure_code: "WORKTREE_REQUIRED", model_id: null });
    const check = await evidenceText(report.runDir, "T2B01", "worktree_check.txt");
    expect(check).toContain("stage: T2b (writes: requires a kodo worktree)");
    expect(check).toMatch(/kodo worktree: no \(.* is not a kodo worktree: it lies outside the worktrees root/);
    expect(check).toContain("verdict: WORKTREE_REQUIRED");
    expect(await evidenceText(report.runDir, "T2A01", "worktree_check.txt")).toContain("verdict: PASS (not required: this stage only reads)");
    expect(report.workspace).toMatchObject({ directory: repo, branch: null, removed: false });
    expect(await digestCheckout(repo)).toBe(before);
    expect(leftovers(home.stateDir)).toEqual([]);
  });

  it("Ctrl-C stops the run: the running case ends INTERRUPTED, the rest is skipped", async () => {
    const home = await newHome("interrupt");
    const repo = await repositoryUnderTest(home.base);
    const controller = new AbortController();
    const report = await runSuite({
      config: home.config,
      repo,
      stages: ["T4"],
      signal: controller.signal,
      // the interrupt arrives while T4E02's turn waits for a model that never answers
      log: (line) => line.startsWith("T4E02 ") && line.endsWith("…") && controller.abort("SIGINT"),
    });
    expect(statuses(report.summary.cases)).toEqual(["T4E01 PASS -", "T4E02 FAIL INTERRUPTED"]);
    expect(report.summary.stop_reason).toBe("INTERRUPTED: the run was interrupted (Ctrl-C)");
    expect(report.summary.final_verdict).toBe("FAIL");
    expect(leftovers(home.stateDir)).toEqual([]);
  });
});
