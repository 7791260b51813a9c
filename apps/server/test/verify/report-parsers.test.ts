// Parsers on reports that the real runners wrote (fixtures/regenerate.sh; versions in fixtures/versions.txt).
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConsoleSummary } from "../../src/verify/reports/console.js";
import { parseGoJson } from "../../src/verify/reports/go-json.js";
import { parseJunit } from "../../src/verify/reports/junit.js";
import { parseNodeEvents } from "../../src/verify/reports/node-test.js";
import type { ParsedReport } from "../../src/verify/types.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const read = (name: string): string => readFileSync(path.join(fixtures, name), "utf8");
/** where regenerate.sh ran node (its events carry absolute paths) */
const NODE_CWD = "/tmp/kodo-report-fixtures/node";

function outcomes(report: ParsedReport): Record<string, string> {
  return Object.fromEntries(report.cases.map((item) => [item.id, item.outcome]));
}

describe("pytest JUnit (xunit1)", () => {
  it("reads ids as pytest node ids, outcomes and messages", () => {
    const report = parseJunit(read("pytest-mixed.xml"), "pytest");
    expect(outcomes(report)).toEqual({
      "tests/test_mixed.py::test_ok": "passed",
      "tests/test_mixed.py::test_bad": "failed",
      "tests/test_mixed.py::test_skipped": "skipped",
      "tests/test_mixed.py::TestGroup::test_method": "passed",
      "tests/test_mixed.py::test_param[1]": "passed",
      "tests/test_mixed.py::test_param[2]": "failed",
      "tests/test_mixed.py::test_setup_error": "error",
    });
    expect(report.counts).toEqual({ passed: 3, failed: 2, errors: 1, skipped: 1, total: 7 });
    const bad = report.cases.find((item) => item.id.endsWith("::test_bad"));
    expect(bad?.message).toBe("AssertionError: one is not two <&>\nassert 1 == 2");
    expect(bad?.location).toEqual({ file: "tests/test_mixed.py", path: ["test_bad"] });
    expect(report.cases.find((item) => item.id.endsWith("test_setup_error"))?.message).toContain("fixture boom");
    expect(report.collectionProblems).toEqual([]);
  });

  it("turns a collection failure into a collection problem with the SyntaxError", () => {
    const report = parseJunit(read("pytest-collection.xml"), "pytest");
    expect(report.cases).toEqual([]);
    expect(report.collectionProblems).toHaveLength(1);
    expect(report.collectionProblems[0]?.location).toBe("tests/test_syntax.py");
    expect(report.collectionProblems[0]?.message).toContain("SyntaxError: invalid syntax");
    expect(report.counts.errors).toBe(1);
  });

  it("guesses ids from classnames when the report is not xunit1 (and says so)", () => {
    const xml = `<testsuites><testsuite><testcase classname="tests.test_a.TestK" name="test_m"/><testcase classname="tests.test_a" name="test_f"/></testsuite></testsuites>`;
    const report = parseJunit(xml, "pytest");
    expect(report.cases.map((item) => item.id)).toEqual(["tests/test_a.py::TestK::test_m", "tests/test_a.py::test_f"]);
    expect(report.notes[0]).toContain("guessed");
  });

  it("refuses a document that is not JUnit", () => {
    expect(() => parseJunit("<html></html>", "pytest")).toThrow("not a JUnit report");
    expect(() => parseJunit("<testsuites><testcase", "pytest")).toThrow();
  });
});

describe("vitest JUnit", () => {
  it("reads `file > suite > test` ids", () => {
    const report = parseJunit(read("vitest-mixed.xml"), "vitest");
    expect(outcomes(report)).toEqual({
      "test/mixed.test.ts > adds": "passed",
      'test/mixed.test.ts > outer > inner > fails <here> & "q"': "failed",
      "test/mixed.test.ts > outer > skipped": "skipped",
    });
    const failed = report.cases.find((item) => item.outcome === "failed");
    expect(failed?.message).toBe("expected 1 to be 2 // Object.is equality");
    expect(failed?.location).toEqual({ file: "test/mixed.test.ts", path: ["outer", "inner", 'fails <here> & "q"'] });
  });

  it("turns a file that does not load into a collection problem", () => {
    const report = parseJunit(read("vitest-collection.xml"), "vitest");
    expect(report.collectionProblems.map((problem) => problem.location)).toEqual(["test/syntax.test.ts"]);
    expect(report.collectionProblems[0]?.message).toContain("PARSE_ERROR");
    expect(report.collectionProblems[0]?.message).not.toContain("\u001b[");
    expect(report.counts).toEqual({ passed: 1, failed: 1, errors: 1, skipped: 1, total: 4 });
  });
});

describe("node --test events (kodo's reporter)", () => {
  it("builds `file > suite > test` ids from the start events and keeps only tests with their own outcome", () => {
    const report = parseNodeEvents(read("node-mixed.jsonl"), NODE_CWD);
    expect(outcomes(report)).toEqual({
      "test/mixed.test.mjs > adds": "passed",
      'test/mixed.test.mjs > outer > inner > fails <here> & "q"': "failed",
      "test/mixed.test.mjs > outer > skipped": "skipped",
      "test/mixed.test.mjs > outer > todo": "skipped",
      "test/mixed.test.mjs > parent > child ok": "passed",
      "test/mixed.test.mjs > parent > child bad": "failed",
    });
    expect(report.cases.find((item) => item.id.endsWith("child bad"))?.message).toBe("TypeError: boom");
    expect(report.cases.find((item) => item.id.includes("fails"))?.message).toContain("one is not two");
    expect(report.counts).toEqual({ passed: 2, failed: 2, errors: 0, skipped: 2, total: 6 });
  });

  it("turns a file that does not load into a collection problem with its SyntaxError", () => {
    const report = parseNodeEvents(read("node-collection.jsonl"), NODE_CWD);
    expect(report.collectionProblems).toHaveLength(1);
    expect(report.collectionProblems[0]?.location).toBe("test/syntax.test.mjs");
    expect(report.collectionProblems[0]?.message).toContain("SyntaxError: Unexpected identifier 'is'");
    expect(report.collectionProblems[0]?.message).not.toContain("    at ");
  });

  it("skips a torn last line and says so", () => {
    const lines = read("node-mixed.jsonl");
    const report = parseNodeEvents(`${lines}{"t":"pass","fi`, NODE_CWD);
    expect(report.cases).toHaveLength(6);
    expect(report.notes[0]).toContain("1 unreadable line");
  });
});

describe("go test -json", () => {
  it("reads `pkg/Test/sub` ids; a parent whose subtest failed is not counted twice", () => {
    const report = parseGoJson(read("go-mixed.json"), read("go-mixed.stderr.txt"));
    expect(outcomes(report)).toEqual({
      "example.com/fixture/TestOK": "passed",
      "example.com/fixture/TestBad": "failed",
      "example.com/fixture/TestSkip": "skipped",
      "example.com/fixture/TestSub/a_b": "passed",
      "example.com/fixture/TestSub/c": "failed",
    });
    expect(report.cases.find((item) => item.id.endsWith("TestBad"))?.message).toBe("mixed_test.go:7: one is not two <&>");
    expect(report.cases.find((item) => item.id.endsWith("TestSub/c"))?.location).toEqual({ file: "example.com/fixture", path: ["TestSub", "c"] });
  });

  it("turns a package that does not build (Go 1.19: a plain FAIL line, errors on stderr) into a collection problem", () => {
    const report = parseGoJson(read("go-collection.json"), read("go-collection.stderr.txt"));
    expect(report.collectionProblems).toEqual([{ location: "example.com/fixture/broken", message: "broken/broken_test.go:5:33: expected ';', found is" }]);
    expect(report.counts.passed).toBe(2);
  });

  it("reads Go 1.24's JSON build events", () => {
    const stdout = [
      `{"ImportPath":"example.com/m/p [example.com/m/p.test]","Action":"build-output","Output":"# example.com/m/p\\n"}`,
      `{"ImportPath":"example.com/m/p [example.com/m/p.test]","Action":"build-output","Output":"p/x_test.go:3:1: undefined: nope\\n"}`,
      `{"ImportPath":"example.com/m/p [example.com/m/p.test]","Action":"build-fail"}`,
      `{"Action":"start","Package":"example.com/m/p"}`,
      `{"Action":"output","Package":"example.com/m/p","Output":"FAIL\\texample.com/m/p [build failed]\\n"}`,
      `{"Action":"fail","Package":"example.com/m/p","Elapsed":0,"FailedBuild":"example.com/m/p [example.com/m/p.test]"}`,
    ].join("\n");
    const report = parseGoJson(stdout, "");
    expect(report.collectionProblems).toHaveLength(1);
    expect(report.collectionProblems[0]?.message).toContain("undefined: nope");
  });

  it("reports a test binary that failed outside any test as an error of the package", () => {
    const stdout = [
      `{"Action":"output","Package":"example.com/m","Output":"panic in TestMain\\n"}`,
      `{"Action":"fail","Package":"example.com/m","Elapsed":0.01}`,
    ].join("\n");
    const report = parseGoJson(stdout, "");
    expect(report.cases).toEqual([{ id: "example.com/m", location: { file: "example.com/m", path: [] }, outcome: "error", message: "panic in TestMain" }]);
  });
});

describe("console fallback", () => {
  it("pytest: counts and FAILED ids from the summary", () => {
    const report = parseConsoleSummary("pytest", read("pytest-mixed.console.txt"), "");
    expect(report?.counts).toEqual({ passed: 3, failed: 2, errors: 1, skipped: 1, total: 7 });
    expect(report?.cases.map((item) => item.id)).toEqual(["tests/test_mixed.py::test_bad", "tests/test_mixed.py::test_param[2]"]);
    expect(report?.format).toBe("console");
  });

  it("pytest: a collection error", () => {
    const report = parseConsoleSummary("pytest", read("pytest-collection.console.txt"), "");
    expect(report?.counts.errors).toBe(1);
    expect(report?.collectionProblems.map((problem) => problem.location)).toEqual(["tests/test_syntax.py"]);
  });

  it("node: the spec summary", () => {
    const report = parseConsoleSummary("node", read("node-mixed.console.txt"), "");
    // node counts a parent test as a test of its own (so 3 failed: the parent, two leaves)
    expect(report?.counts).toEqual({ passed: 2, failed: 3, errors: 0, skipped: 2, total: 7 });
  });

  it("vitest: the Tests line and failed suites", () => {
    expect(parseConsoleSummary("vitest", read("vitest-mixed.console.txt"), "")?.counts).toEqual({ passed: 1, failed: 1, errors: 0, skipped: 1, total: 3 });
    expect(parseConsoleSummary("vitest", read("vitest-collection.console.txt"), "")?.counts.errors).toBe(1);
  });

  it("go: --- lines inside the JSON and the build failure line", () => {
    const report = parseConsoleSummary("go", read("go-collection.json"), read("go-collection.stderr.txt"));
    expect(report?.counts).toMatchObject({ passed: 2, failed: 3, skipped: 1 });
    expect(report?.collectionProblems.map((problem) => problem.location)).toEqual(["example.com/fixture/broken"]);
  });

  it("finds nothing in output without a summary", () => {
    for (const runner of ["pytest", "node", "vitest", "go"] as const) expect(parseConsoleSummary(runner, "Traceback: no module named pytest", "")).toBeUndefined();
  });
});
