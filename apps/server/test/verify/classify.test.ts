import { describe, expect, it } from "vitest";
import { classifyRun, keyLine, type ClassifyInput } from "../../src/verify/classify.js";
import { countCases } from "../../src/verify/test-ids.js";
import type { CaseOutcome, CollectionProblem, ParsedReport, RerunRecord } from "../../src/verify/types.js";

function report(cases: Array<[string, CaseOutcome]>, problems: CollectionProblem[] = []): ParsedReport {
  const items = cases.map(([id, outcome]) => ({ id, location: { file: "t.py", path: [id] }, outcome, message: outcome === "failed" ? `${id} failed` : "" }));
  return { format: "junit", cases: items, collectionProblems: problems, counts: countCases(items, problems), notes: [] };
}

function input(overrides: Partial<ClassifyInput>): ClassifyInput {
  return {
    runner: "pytest", budgetExhausted: false, timedOut: false, timeoutMs: 300_000, exitCode: 0, signal: null,
    report: report([["a", "passed"]]), stderrTail: "", previouslyPassed: [], reruns: [], ...overrides,
  };
}

function rerun(ids: string[], passed: string[], timedOut = false): RerunRecord {
  return { attempt: 1, command: [], ids, passed, stillFailing: ids.filter((id) => !passed.includes(id)), exitCode: 0, timedOut, durationMs: 1, artifacts: [], notes: [] };
}

describe("classifyRun", () => {
  it("PASSED: exit 0, nothing failing, at least one test passed", () => {
    const verdict = classifyRun(input({ report: report([["a", "passed"], ["b", "skipped"]]) }));
    expect(verdict).toMatchObject({ class: "PASSED", code: "ALL_PASSED", reason: "1 test passed, 1 skipped" });
  });

  it("a spent budget is TEST_TIMEOUT before anything else", () => {
    const verdict = classifyRun(input({ budgetExhausted: true, report: undefined }));
    expect(verdict).toMatchObject({ class: "TEST_TIMEOUT", code: "BUDGET_EXHAUSTED" });
    expect(verdict.reason).toContain("budget exhausted");
  });

  it("a timeout outranks failures, flakes and collection errors", () => {
    const verdict = classifyRun(input({
      timedOut: true, timeoutMs: 3000, exitCode: null, signal: "SIGKILL",
      report: report([["a", "failed"]], [{ location: "x.py", message: "SyntaxError" }]), reruns: [rerun(["a"], ["a"])],
    }));
    expect(verdict).toMatchObject({ class: "TEST_TIMEOUT", code: "TIMED_OUT" });
    expect(verdict.reason).toContain("3000 ms");
  });

  it("collection problems outrank failures and flakes", () => {
    const verdict = classifyRun(input({
      exitCode: 2, report: report([["a", "failed"]], [{ location: "tests/test_x.py", message: "E   File \"x\", line 1\nE   SyntaxError: invalid syntax" }]),
      reruns: [rerun(["a"], ["a"])],
    }));
    expect(verdict).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "COLLECTION_FAILED" });
    expect(verdict.reason).toBe("1 file or package could not be loaded or built: tests/test_x.py: E   SyntaxError: invalid syntax");
    expect(verdict.evidence.collectionProblems).toHaveLength(1);
  });

  it.each([
    [2, "COLLECTION_FAILED"],
    [3, "COLLECTION_FAILED"],
    [4, "RUNNER_USAGE_ERROR"],
    [5, "NO_TESTS_COLLECTED"],
  ] as const)("pytest exit %i is a collection error (%s)", (exitCode, code) => {
    const verdict = classifyRun(input({ exitCode, report: report([]), stderrTail: "ERROR: file or directory not found: nope\n" }));
    expect(verdict).toMatchObject({ class: "TEST_COLLECTION_ERROR", code });
  });

  it("no report and no summary fails closed", () => {
    const verdict = classifyRun(input({ exitCode: 127, report: undefined, stderrTail: "\nbwrap: execvp nope: No such file or directory\n" }));
    expect(verdict).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "NO_RESULTS" });
    expect(verdict.reason).toContain("execvp nope");
  });

  it("no tests, or only skipped tests, verified nothing", () => {
    expect(classifyRun(input({ runner: "node", report: report([]) })).code).toBe("NO_TESTS_COLLECTED");
    expect(classifyRun(input({ report: report([["a", "skipped"]]) })).code).toBe("ALL_TESTS_SKIPPED");
  });

  it("a non-zero exit without a failed test is a failure, not a pass", () => {
    const verdict = classifyRun(input({ runner: "vitest", exitCode: 1, stderrTail: "Error: Unhandled rejection\n" }));
    expect(verdict).toMatchObject({ class: "TEST_FAILURE", code: "EXIT_CODE_WITHOUT_FAILED_TEST" });
    expect(verdict.reason).toContain("Unhandled rejection");
  });

  it("a runner killed by a signal (not a timeout) is a failure", () => {
    expect(classifyRun(input({ runner: "node", exitCode: null, signal: "SIGKILL", report: undefined })).code).toBe("RUNNER_KILLED");
  });

  it("TEST_FAILURE: a failed test that fails again on rerun", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "passed"], ["b", "failed"]]), reruns: [rerun(["b"], [])] }));
    expect(verdict).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED", reason: "1 of 2 tests failed: b" });
    expect(verdict.evidence.consistentFailures).toEqual(["b"]);
  });

  it("TEST_FLAKE: every failed test passed when rerun alone", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "failed"], ["b", "failed"]]), reruns: [rerun(["a", "b"], ["a"]), { ...rerun(["b"], ["b"]), attempt: 2 }] }));
    expect(verdict).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_ON_RERUN" });
    expect(verdict.evidence.flakyOnRerun).toEqual(["a", "b"]);
  });

  it("one real failure among flakes makes the run a failure (flakes named in the reason)", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "failed"], ["b", "failed"]]), reruns: [rerun(["a", "b"], ["a"])] }));
    expect(verdict).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED" });
    expect(verdict.reason).toContain("flaky (passed on rerun): a");
  });

  it("passed earlier in the task but fails again on rerun: a REGRESSION, not a flake", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "failed"]]), previouslyPassed: ["a"], reruns: [rerun(["a"], [])] }));
    expect(verdict).toMatchObject({ class: "TEST_FAILURE", code: "REGRESSION" });
    expect(verdict.evidence.passedEarlier).toEqual(["a"]);
  });

  it("passed earlier and not rerun (reruns off): a flake by history, marked unconfirmed", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "failed"]]), previouslyPassed: ["a"] }));
    expect(verdict).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_BY_HISTORY" });
    expect(verdict.reason).toContain("unconfirmed");
  });

  it("a rerun that timed out is no evidence either way", () => {
    const verdict = classifyRun(input({ exitCode: 1, report: report([["a", "failed"]]), previouslyPassed: ["a"], reruns: [rerun(["a"], [], true)] }));
    expect(verdict.code).toBe("FLAKY_BY_HISTORY");
    expect(classifyRun(input({ exitCode: 1, report: report([["a", "failed"]]), reruns: [rerun(["a"], [], true)] })).code).toBe("TESTS_FAILED");
  });

  it("console-only counts with failures but no names are still failures", () => {
    const counted: ParsedReport = { format: "console", cases: [], collectionProblems: [], counts: { passed: 3, failed: 2, errors: 0, skipped: 0, total: 5 }, notes: [] };
    expect(classifyRun(input({ runner: "node", exitCode: 1, report: counted })).code).toBe("TESTS_FAILED");
  });

  it("is deterministic", () => {
    const at = input({ exitCode: 1, report: report([["a", "failed"]]), reruns: [rerun(["a"], [])] });
    expect(classifyRun(at)).toEqual(classifyRun(structuredClone(at)));
  });
});

describe("keyLine", () => {
  it("picks the line that says what is wrong", () => {
    expect(keyLine("Error: Transform failed with 1 error:\n[PARSE_ERROR] Expected a semicolon\n")).toBe("[PARSE_ERROR] Expected a semicolon");
    expect(keyLine("x.go:3:28: undefined: nope")).toBe("x.go:3:28: undefined: nope");
    expect(keyLine("\n\nsomething odd\n")).toBe("something odd");
  });
});
