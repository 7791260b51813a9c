// runTests with real `node --test` on generated repositories, in the real sandbox.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { TestResultView } from "@kodo/contracts";
import { OUTPUT_LIMIT_BYTES } from "../../src/verify/executor.js";
import { buildRetryContext } from "../../src/verify/retry-context.js";
import { testResultView } from "../../src/verify/view.js";
import { artifactNames, expectArtifactsIntact, expectNoProcessLeft, run } from "./executor-helpers.js";
import { nodeRepo, removeFixtures } from "./fixture-repos.js";

afterEach(removeFixtures);

describe("runTests with node --test", () => {
  it("PASSED, with `file > suite > test` ids and the events report kept", async () => {
    const { result } = await run(nodeRepo("pass"));
    expect(result).toMatchObject({ class: "PASSED", runner: "node", exitCode: 0, sandboxed: true });
    expect(result.passedIds).toEqual(["test/sample.test.js > adds", "test/sample.test.js > strings > upper"]);
    expect(artifactNames(result)).toEqual(["report.jsonl", "stderr.log", "stdout.log"]);
    expect(result.stdout.text).toContain("ℹ pass 2");
    expectArtifactsIntact(result);
  });

  it("TEST_FAILURE: the failing test, rerun alone by name pattern, fails again", async () => {
    const { result } = await run(nodeRepo("fail"));
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED" });
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]?.id).toBe("test/sample.test.js > math > broken");
    expect(result.failed[0]?.message).toContain("one is not two");
    expect(result.reruns[0]?.command).toContain("--test-name-pattern=^broken$");
    expect(result.reruns[0]?.stillFailing).toEqual(["test/sample.test.js > math > broken"]);
    // what the store and the API keep: the contracts' shape
    expect(TestResultView.parse(testResultView(result, 2))).toMatchObject({ attempt: 2, class: "TEST_FAILURE", failed: result.failed });
    expect(buildRetryContext(result).failedTests).toEqual(["test/sample.test.js > math > broken"]);
    // the rerun ran the failed test alone: the other one was skipped by the pattern
    const rerunReport = result.artifacts.find((artifact) => artifact.name === "rerun-1/report.jsonl");
    expect(readFileSync(rerunReport?.path ?? "", "utf8")).toContain('"name":"ok","suite":false,"skip":true');
  });

  it("TEST_FLAKE: fails first, passes on rerun", async () => {
    const { result } = await run(nodeRepo("flaky"));
    expect(result).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_ON_RERUN" });
    expect(result.reruns[0]?.passed).toEqual(["test/sample.test.js > flaky"]);
  });

  it("rerunFailed: 0 turns reruns off", async () => {
    const { result } = await run(nodeRepo("flaky"), { rerunFailed: 0 });
    expect(result).toMatchObject({ class: "TEST_FAILURE", reruns: [] });
  });

  it("TEST_TIMEOUT: a hanging test, no process left", async () => {
    const { result, marker } = await run(nodeRepo("hang"), { timeoutMs: 3_000 });
    expect(result).toMatchObject({ class: "TEST_TIMEOUT", timedOut: true });
    await expectNoProcessLeft(marker);
  });

  it("a test that daemonizes `sleep 300` leaves no process behind", async () => {
    const { result, marker } = await run(nodeRepo("daemon"));
    expect(result.class).toBe("PASSED");
    await expectNoProcessLeft(marker);
  });

  it("megabytes of console.log: truncated result, full artifact with sha256", async () => {
    const { result } = await run(nodeRepo("noisy"));
    expect(result.class).toBe("PASSED");
    expect(result.stdout).toMatchObject({ truncated: true });
    expect(result.stdout.totalBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(Buffer.byteLength(result.stdout.text)).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES);
    expect(result.stdout.text).toContain("ℹ pass 1");
    expect(result.artifacts.find((artifact) => artifact.name === "stdout.log")?.bytes).toBe(result.stdout.totalBytes);
    expectArtifactsIntact(result);
  });

  it("TEST_COLLECTION_ERROR: a file with a syntax error", async () => {
    const { result } = await run(nodeRepo("syntax"));
    expect(result).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "COLLECTION_FAILED", reruns: [] });
    expect(result.collectionProblems[0]).toMatchObject({ location: "test/sample.test.js" });
    expect(result.reason).toContain("SyntaxError: Unexpected identifier");
  });

  it("a spent budget (overspent, or less than a millisecond left) gives TEST_TIMEOUT without running", async () => {
    for (const remainingMs of [-5, 0.4]) {
      const { result } = await run(nodeRepo("pass"), { budget: { remainingMs } });
      expect(result).toMatchObject({ class: "TEST_TIMEOUT", code: "BUDGET_EXHAUSTED", command: [] });
    }
  });

  it("refuses a timeout below 1 ms", async () => {
    await expect(run(nodeRepo("pass"), { timeoutMs: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });

  it("falls back to the console summary when the report is missing (and says so)", async () => {
    // a base command that prints a runner's summary and writes no report (kodo's flags go to its argv)
    const summary = "console.log('ℹ tests 3\\nℹ pass 2\\nℹ fail 1\\nℹ skipped 0')";
    const { result } = await run(nodeRepo("pass"), { command: [process.execPath, "-e", summary, "--"] });
    expect(result.notes.join("\n")).toContain("the node report was not written: falling back to the console summary");
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED", counts: { passed: 2, failed: 1, total: 3 }, evidence: { reportFormat: "console" } });
  });
});
