import type { CollectionProblem, RunnerName, TestCaseResult, TestCounts, TestLocation } from "./types.js";

/**
 * The normalized id of a test, one form per runner:
 * pytest `tests/test_a.py::TestK::test_m`, node and vitest `test/a.test.js > suite > name`,
 * go `example.com/mod/pkg/TestName/sub`.
 */
export function formatTestId(runner: RunnerName, location: TestLocation): string {
  switch (runner) {
    case "pytest":
      return [location.file, ...location.path].join("::");
    case "node":
    case "vitest":
      return [location.file, ...location.path].join(" > ");
    case "go":
      return [location.file, ...location.path].join("/");
  }
}

function isStrictPrefix(prefix: string[], longer: string[]): boolean {
  if (prefix.length >= longer.length) return false;
  return prefix.every((part, index) => longer[index] === part);
}

/**
 * Keeps the tests that carry their own outcome. A parent (a test or suite with reported children)
 * is dropped: its children already count; it stays only when it failed while none of its
 * children did (it failed on its own, e.g. in a hook or after its subtests).
 */
export function dropParents(cases: TestCaseResult[]): TestCaseResult[] {
  const byFile = new Map<string, TestCaseResult[]>();
  for (const item of cases) {
    const list = byFile.get(item.location.file) ?? [];
    list.push(item);
    byFile.set(item.location.file, list);
  }
  return cases.filter((item) => {
    const siblings = byFile.get(item.location.file) ?? [];
    const children = siblings.filter((other) => isStrictPrefix(item.location.path, other.location.path));
    if (children.length === 0) return true;
    if (item.outcome !== "failed" && item.outcome !== "error") return false;
    return !children.some((child) => child.outcome === "failed" || child.outcome === "error");
  });
}

export function countCases(cases: TestCaseResult[], problems: CollectionProblem[]): TestCounts {
  const counts: TestCounts = { passed: 0, failed: 0, errors: problems.length, skipped: 0, total: 0 };
  for (const item of cases) {
    if (item.outcome === "passed") counts.passed += 1;
    else if (item.outcome === "failed") counts.failed += 1;
    else if (item.outcome === "error") counts.errors += 1;
    else counts.skipped += 1;
  }
  counts.total = counts.passed + counts.failed + counts.errors + counts.skipped;
  return counts;
}

const ESCAPE = String.fromCharCode(27);

/** Removes terminal colour and cursor sequences (ESC [ … letter). */
export function stripAnsi(text: string): string {
  if (!text.includes(ESCAPE)) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    if (text[i] === ESCAPE && text[i + 1] === "[") {
      let j = i + 2;
      while (j < text.length) {
        const code = text.charCodeAt(j);
        if (code >= 0x40 && code <= 0x7e) break;
        j += 1;
      }
      i = j + 1;
      continue;
    }
    out += text[i];
    i += 1;
  }
  return out;
}

/** Escapes a literal for use inside a regular expression (JavaScript, Go RE2 and Python alike). */
export function escapeRegExp(literal: string): string {
  let out = "";
  for (const ch of literal) out += "\\^$.*+?()[]{}|/".includes(ch) ? `\\${ch}` : ch;
  return out;
}
