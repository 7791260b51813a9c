/**
 * Fallback: counts from a runner's console summary, used only when its machine-readable report is
 * missing or unreadable. Gives counts and, where the console names them, the failed tests; passing
 * tests have no ids here. Returns undefined when no summary line is found.
 */
import { formatTestId, stripAnsi } from "../test-ids.js";
import type { CollectionProblem, ParsedReport, RunnerName, TestCaseResult, TestCounts } from "../types.js";

function emptyCounts(): TestCounts {
  return { passed: 0, failed: 0, errors: 0, skipped: 0, total: 0 };
}

function finish(counts: TestCounts, failedCases: TestCaseResult[], problems: CollectionProblem[], note: string): ParsedReport {
  counts.total = counts.passed + counts.failed + counts.errors + counts.skipped;
  return { format: "console", cases: failedCases, collectionProblems: problems, counts, notes: [note] };
}

/** pytest: `== 2 failed, 3 passed, 1 skipped, 1 error in 2.30s ==` (last such line) and `FAILED id - msg`. */
function parsePytest(lines: string[]): ParsedReport | undefined {
  const summary = lines.findLast((line) => / in [\d.]+s\b/.test(line) && /\b(passed|failed|error|errors|skipped|no tests ran|deselected|xfailed|xpassed)\b/.test(line));
  if (summary === undefined) return undefined;
  const counts = emptyCounts();
  for (const match of summary.matchAll(/(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)\b/g)) {
    const n = Number(match[1]);
    const word = match[2];
    if (word === "passed" || word === "xpassed") counts.passed += n;
    else if (word === "failed") counts.failed += n;
    else if (word === "error" || word === "errors") counts.errors += n;
    else counts.skipped += n;
  }
  const failed: TestCaseResult[] = [];
  for (const line of lines) {
    const match = /^FAILED (\S+?)(?: - (.*))?$/.exec(line);
    if (match?.[1] === undefined) continue;
    const [file = "", ...rest] = match[1].split("::");
    const location = { file, path: rest };
    failed.push({ id: formatTestId("pytest", location), location, outcome: "failed", message: match[2] ?? "" });
  }
  const problems = lines.filter((line) => line.startsWith("ERROR ") && !line.includes("::")).map((line) => ({ location: line.slice(6).split(" - ")[0] ?? "", message: line }));
  return finish(counts, failed, problems, "counts read from pytest's console summary (report missing or unreadable)");
}

/** node: `ℹ tests 4` / `ℹ pass 1` / `ℹ fail 2` / `ℹ skipped 1` (spec) or `# pass 1` (tap). */
function parseNode(lines: string[]): ParsedReport | undefined {
  const read = (key: string): number | undefined => {
    const line = lines.findLast((candidate) => new RegExp(`^(ℹ|#) ${key} \\d+\\s*$`).test(candidate));
    return line === undefined ? undefined : Number(line.trim().split(" ").at(-1));
  };
  const tests = read("tests");
  if (tests === undefined) return undefined;
  const counts = emptyCounts();
  counts.passed = read("pass") ?? 0;
  counts.failed = read("fail") ?? 0;
  counts.errors = read("cancelled") ?? 0;
  counts.skipped = (read("skipped") ?? 0) + (read("todo") ?? 0);
  return finish(counts, [], [], "counts read from node's console summary (report missing or unreadable)");
}

/** vitest: ` Tests  1 failed | 1 passed | 1 skipped (3)` and ` Test Files  2 failed (2)`. */
function parseVitest(lines: string[]): ParsedReport | undefined {
  const summary = lines.findLast((line) => /^\s*Tests\s+\d+ /.test(line));
  const files = lines.findLast((line) => /^\s*Test Files\s+\d+ /.test(line));
  if (summary === undefined && files === undefined) return undefined;
  const counts = emptyCounts();
  for (const match of (summary ?? "").matchAll(/(\d+) (passed|failed|skipped|todo)\b/g)) {
    const n = Number(match[1]);
    if (match[2] === "passed") counts.passed += n;
    else if (match[2] === "failed") counts.failed += n;
    else counts.skipped += n;
  }
  const failedSuites = lines.findLast((line) => /Failed Suites \d+/.test(line));
  if (failedSuites !== undefined) counts.errors += Number(/Failed Suites (\d+)/.exec(failedSuites)?.[1] ?? 0);
  return finish(counts, [], [], "counts read from vitest's console summary (report missing or unreadable)");
}

/** go: `--- PASS|FAIL|SKIP: Name` lines (plain or inside JSON Output) and `FAIL\tpkg [build failed]`. */
function parseGo(lines: string[]): ParsedReport | undefined {
  const counts = emptyCounts();
  const failed: TestCaseResult[] = [];
  const problems: CollectionProblem[] = [];
  let seen = false;
  for (const line of lines) {
    for (const match of line.matchAll(/--- (PASS|FAIL|SKIP): (\S+)/g)) {
      seen = true;
      if (match[1] === "PASS") counts.passed += 1;
      else if (match[1] === "SKIP") counts.skipped += 1;
      else {
        counts.failed += 1;
        const location = { file: "", path: (match[2] ?? "").split("/") };
        failed.push({ id: (match[2] ?? ""), location, outcome: "failed", message: "" });
      }
    }
    const build = /^FAIL\t(\S+) \[(build|setup) failed\]/.exec(line) ?? /FAIL\\t(\S+) \[(build|setup) failed\]/.exec(line);
    if (build?.[1] !== undefined) {
      seen = true;
      problems.push({ location: build[1], message: `${build[2] ?? "build"} failed` });
    }
  }
  if (!seen) return undefined;
  return finish(counts, failed, problems, "counts read from go's console output (report missing or unreadable); ids lack the package");
}

export function parseConsoleSummary(runner: RunnerName, stdout: string, stderr: string): ParsedReport | undefined {
  const lines = stripAnsi(`${stdout}\n${stderr}`).split("\n").map((line) => line.trimEnd());
  switch (runner) {
    case "pytest":
      return parsePytest(lines);
    case "node":
      return parseNode(lines);
    case "vitest":
      return parseVitest(lines);
    case "go":
      return parseGo(lines);
  }
}
