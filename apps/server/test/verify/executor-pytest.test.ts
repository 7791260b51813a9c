// runTests with real pytest on generated repositories, in the real sandbox.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OUTPUT_LIMIT_BYTES, runTests } from "../../src/verify/executor.js";
import { artifactNames, expectArtifactsIntact, expectNoProcessLeft, run } from "./executor-helpers.js";
import { pytestRepo, removeFixtures, tempDir } from "./fixture-repos.js";

afterEach(removeFixtures);

describe("runTests with pytest", () => {
  it("PASSED: a passing suite, with the report and full logs kept", async () => {
    const { result } = await run(pytestRepo("pass"));
    expect(result).toMatchObject({ class: "PASSED", code: "ALL_PASSED", runner: "pytest", exitCode: 0, timedOut: false, sandboxed: true });
    expect(result.counts).toEqual({ passed: 2, failed: 0, errors: 0, skipped: 0, total: 2 });
    expect(result.passedIds).toEqual(["tests/test_sample.py::test_one", "tests/test_sample.py::test_two"]);
    expect(artifactNames(result)).toEqual(["report.xml", "stderr.log", "stdout.log"]);
    expectArtifactsIntact(result);
    expect(result.command.filter((part) => part.startsWith("--junitxml=") || part === "-p" || part === "no:cacheprovider")).toHaveLength(3);
  });

  it("TEST_FAILURE: a failing test (rerun, still failing) with its assertion message", async () => {
    const worktree = pytestRepo("fail");
    const { result } = await run(worktree);
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED", exitCode: 1 });
    expect(result.failed).toEqual([{ id: "tests/test_sample.py::test_broken", message: "AssertionError: one is not two\nassert 1 == 2" }]);
    expect(result.reruns).toHaveLength(1);
    expect(result.reruns[0]).toMatchObject({ ids: ["tests/test_sample.py::test_broken"], passed: [], stillFailing: ["tests/test_sample.py::test_broken"] });
    expect(result.reruns[0]?.command.at(-1)).toBe("tests/test_sample.py::test_broken");
    expect(artifactNames(result)).toEqual(["report.xml", "rerun-1/report.xml", "rerun-1/stderr.log", "rerun-1/stdout.log", "stderr.log", "stdout.log"]);
    // no pytest cache or bytecode left in the agent's worktree
    expect(existsSync(path.join(worktree, ".pytest_cache"))).toBe(false);
    expect(existsSync(path.join(worktree, "tests", "__pycache__"))).toBe(false);
  });

  it("REGRESSION: a test that passed earlier in the task and fails again on rerun is no flake", async () => {
    const { result } = await run(pytestRepo("fail"), { previouslyPassed: ["tests/test_sample.py::test_broken"] });
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "REGRESSION" });
  });

  it("TEST_FLAKE: fails on its first run, passes when rerun alone (counter file in the worktree)", async () => {
    const worktree = pytestRepo("flaky");
    const { result } = await run(worktree);
    expect(result).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_ON_RERUN" });
    expect(result.failed.map((test) => test.id)).toEqual(["tests/test_sample.py::test_flaky"]);
    expect(result.reruns[0]?.passed).toEqual(["tests/test_sample.py::test_flaky"]);
    expect(existsSync(path.join(worktree, ".flaky-count"))).toBe(true);
  });

  it("TEST_TIMEOUT: a hanging test is stopped at the timeout and leaves no process", async () => {
    const { result, marker } = await run(pytestRepo("hang"), { timeoutMs: 3_000 });
    expect(result).toMatchObject({ class: "TEST_TIMEOUT", code: "TIMED_OUT", timedOut: true, effectiveTimeoutMs: 3_000 });
    expect(result.reruns).toEqual([]);
    expect(result.durationMs).toBeLessThan(15_000);
    await expectNoProcessLeft(marker);
  });

  it("the budget cuts the timeout: min(timeoutMs, budget)", async () => {
    const { result } = await run(pytestRepo("hang"), { timeoutMs: 60_000, budget: { remainingMs: 2_500 } });
    expect(result).toMatchObject({ class: "TEST_TIMEOUT", timedOut: true, effectiveTimeoutMs: 2_500 });
    expect(result.notes.join("\n")).toContain("cut to the 2500 ms left in the budget");
  });

  it("a test that daemonizes `sleep 300` leaves no process behind", async () => {
    const { result, marker } = await run(pytestRepo("daemon"));
    expect(result.class).toBe("PASSED");
    await expectNoProcessLeft(marker);
  });

  it("megabytes of output: the result keeps ≤ 50 KB (head, marker, tail), the full log is an artifact with its sha256", async () => {
    const { result } = await run(pytestRepo("noisy"));
    expect(result.class).toBe("PASSED");
    expect(result.stdout.truncated).toBe(true);
    expect(result.stdout.totalBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(Buffer.byteLength(result.stdout.text)).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES);
    expect(result.stdout.text).toContain("bytes truncated");
    expect(result.stdout.text.startsWith("=")).toBe(true);
    const log = result.artifacts.find((artifact) => artifact.name === "stdout.log");
    expect(log?.bytes).toBe(result.stdout.totalBytes);
    expectArtifactsIntact(result);
  });

  it("TEST_COLLECTION_ERROR: a syntax error, not rerun", async () => {
    const { result } = await run(pytestRepo("syntax"));
    expect(result).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "COLLECTION_FAILED", exitCode: 2, reruns: [] });
    expect(result.collectionProblems[0]?.location).toBe("tests/test_sample.py");
    expect(result.reason).toContain("SyntaxError");
  });

  it("a spent budget gives TEST_TIMEOUT without running anything", async () => {
    const worktree = pytestRepo("flaky");
    const { result } = await run(worktree, { budget: { remainingMs: 0 } });
    expect(result).toMatchObject({ class: "TEST_TIMEOUT", code: "BUDGET_EXHAUSTED", command: [], artifacts: [], durationMs: 0 });
    expect(result.reason).toContain("budget exhausted");
    expect(existsSync(path.join(worktree, ".flaky-count"))).toBe(false);
  });

  it("runs only the target, and an explicit base command (the pyenv shim) works the same", async () => {
    const { result } = await run(pytestRepo("fail"), { target: "tests/test_sample.py::test_ok", command: ["python3", "-m", "pytest"] });
    expect(result).toMatchObject({ class: "PASSED", counts: { passed: 1, total: 1 } });
    expect(result.command.slice(0, 3)).toEqual(["python3", "-m", "pytest"]);
  });

  it("isolation: kodo's home is masked, the network is off, host variables do not leak", async () => {
    const home = tempDir("kodo-home-");
    const secret = path.join(home, "secret.txt");
    writeFileSync(secret, "model api key");
    const worktree = pytestRepo("pass");
    writeFileSync(path.join(worktree, "tests", "test_isolation.py"), [
      "import os, socket",
      "def test_home_is_masked():",
      "    assert not os.path.exists(os.environ['SECRET_FILE'])",
      "def test_no_network():",
      "    s = socket.socket()",
      "    s.settimeout(2)",
      "    try:",
      "        s.connect(('1.1.1.1', 53))",
      "        connected = True",
      "    except OSError:",
      "        connected = False",
      "    assert not connected",
      "def test_environment_is_built_not_inherited():",
      "    assert 'VITEST' not in os.environ and 'KODO_TEST_MARKER' in os.environ",
      "",
    ].join("\n"));
    const { result } = await run(worktree, { masked: [home], env: { SECRET_FILE: secret } });
    expect(result.failed).toEqual([]);
    expect(result).toMatchObject({ class: "PASSED", counts: { passed: 5 } });
  });

  it("refuses a target outside the worktree before running", async () => {
    await expect(runTests({ worktree: pytestRepo("pass"), target: "../", budget: { remainingMs: 10_000 }, artifactsDir: tempDir("kodo-artifacts-") }))
      .rejects.toMatchObject({ code: "TEST_TARGET_INVALID" });
  });
});
