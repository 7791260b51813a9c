import { describe, expect, it } from "vitest";
import { buildRetryContext, MAX_ERROR_CHARS, renderRetryContext, SUGGESTIONS, trimMessage } from "../../src/verify/retry-context.js";
import type { FailedTest } from "../../src/verify/types.js";

const failed = (n: number): FailedTest[] => Array.from({ length: n }, (_, i) => ({ id: `tests/test_a.py::test_${i}`, message: `assert ${i} == -1` }));

describe("buildRetryContext", () => {
  it("keeps at most 10 ids and 5 messages, each trimmed to 500 characters", () => {
    const run = { class: "TEST_FAILURE" as const, reason: "12 of 12 failed", failed: [{ id: "long", message: "x".repeat(2000) }, ...failed(11)], collectionProblems: [] };
    const context = buildRetryContext(run);
    expect(context.failedTests).toHaveLength(10);
    expect(context.failedTests[0]).toBe("long");
    expect(context.errors).toHaveLength(5);
    expect(context.errors[0]?.length).toBe(MAX_ERROR_CHARS);
    expect(context.errors[0]?.endsWith("…")).toBe(true);
    expect(context.suggestion).toBe(SUGGESTIONS.TEST_FAILURE);
  });

  it("puts collection problems first, and falls back to the reason when nothing else explains", () => {
    const collection = buildRetryContext({ class: "TEST_COLLECTION_ERROR", reason: "r", failed: [], collectionProblems: [{ location: "tests/test_x.py", message: "SyntaxError: invalid syntax" }] });
    expect(collection.errors).toEqual(["tests/test_x.py: SyntaxError: invalid syntax"]);
    const timeout = buildRetryContext({ class: "TEST_TIMEOUT", reason: "the test run did not finish within 3000 ms and was stopped", failed: [], collectionProblems: [] });
    expect(timeout).toEqual({ class: "TEST_TIMEOUT", failedTests: [], errors: ["the test run did not finish within 3000 ms and was stopped"], suggestion: SUGGESTIONS.TEST_TIMEOUT });
  });

  it("has a suggestion for every class", () => {
    for (const value of Object.values(SUGGESTIONS)) expect(value.length).toBeGreaterThan(10);
  });
});

describe("renderRetryContext", () => {
  it("renders the same text for the same context (and this exact text)", () => {
    const context = buildRetryContext({
      class: "TEST_FLAKE", reason: "r",
      failed: [{ id: "test/a.test.js > timing", message: "AssertionError: expected 1\n\n1 !== 2" }], collectionProblems: [],
    });
    const text = renderRetryContext(context);
    expect(text).toBe(renderRetryContext(structuredClone(context)));
    expect(text).toBe([
      "The tests did not pass (TEST_FLAKE).",
      "",
      "Failing tests:",
      "  - test/a.test.js > timing",
      "",
      "Errors:",
      "  - test/a.test.js > timing: AssertionError: expected 1",
      "",
      "    1 !== 2",
      "",
      `What to do: ${SUGGESTIONS.TEST_FLAKE}`,
    ].join("\n"));
  });

  it("trimMessage leaves short text alone", () => {
    expect(trimMessage("  short  ")).toBe("short");
  });
});
