/**
 * The argv of a runner invocation: the first run on the target, or a rerun of chosen tests alone.
 * Pure: the caller resolves the runner's base command (interpreter, binary) and the scratch dir.
 *
 * Each invocation writes a machine-readable report into `scratch` (writable inside the sandbox):
 * - pytest: `--junitxml` with `junit_family=xunit1` (its testcases carry `file`), no cache
 *   provider (no `.pytest_cache` written into the worktree), `--rootdir` = the worktree so report
 *   ids are the node ids a rerun passes back.
 * - node: kodo's reporter module (JSON lines) plus `spec` on stdout.
 * - vitest: `junit` into a file plus `default` on stdout, no colour, no results cache.
 * - go: `-json` on stdout (the full stdout log is the report), `-count=1` (no cached results).
 */
import path from "node:path";
import { escapeRegExp } from "./test-ids.js";
import { NODE_REPORTER_FILE } from "./reports/node-reporter.js";
import type { ReportFormat, RunnerName, TestLocation } from "./types.js";

export interface RunnerInvocation {
  command: string[];
  reportFormat: Exclude<ReportFormat, "console">;
  /** the report file; undefined for go, whose report is stdout */
  reportPath: string | undefined;
}

export interface InvocationInput {
  runner: RunnerName;
  /** the runner's base command, e.g. [python, "-m", "pytest"] or [node, vitest.mjs] */
  base: string[];
  worktree: string;
  /** the checked target (relative to the worktree, or "." for everything) */
  target: string;
  scratch: string;
  /** a file name prefix inside scratch (one per invocation: "main", "rerun-1") */
  label: string;
  /** rerun only these tests (instead of the target) */
  select?: TestLocation[];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function isWholeTree(target: string): boolean {
  return target === "." || target === "./" || target === "";
}

function pytest(input: InvocationInput, report: string): string[] {
  const args = [...input.base, "-p", "no:cacheprovider", "-o", "junit_family=xunit1", `--junitxml=${report}`, `--rootdir=${input.worktree}`];
  if (input.select !== undefined) return [...args, ...unique(input.select.map((item) => [item.file, ...item.path].join("::")))];
  return [...args, input.target];
}

function node(input: InvocationInput, report: string): string[] {
  const args = [
    ...input.base,
    "--test",
    `--test-reporter=${path.join(input.scratch, NODE_REPORTER_FILE)}`,
    `--test-reporter-destination=${report}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
  ];
  if (input.select === undefined) return isWholeTree(input.target) ? args : [...args, input.target];
  // Node 20 matches a pattern against each test's own name (not its suites'); a test whose name
  // does not match is skipped with its subtests, so the names of the enclosing tests go in too.
  const names = unique(input.select.flatMap((item) => item.path));
  const patterns = names.map((name) => `--test-name-pattern=^${escapeRegExp(name)}$`);
  return [...args, ...patterns, ...unique(input.select.map((item) => item.file))];
}

function vitest(input: InvocationInput, report: string): string[] {
  const args = [...input.base, "run", "--reporter=default", "--reporter=junit", `--outputFile.junit=${report}`, "--no-color", "--cache=false"];
  if (input.select === undefined) return isWholeTree(input.target) ? args : [...args, input.target];
  // vitest -t matches the full name: suites and test joined by spaces
  const full = unique(input.select.map((item) => escapeRegExp(item.path.join(" "))));
  return [...args, "-t", `^(?:${full.join("|")})$`, ...unique(input.select.map((item) => item.file))];
}

function go(input: InvocationInput): string[] {
  const args = [...input.base, "test", "-json", "-count=1"];
  if (input.select === undefined) return [...args, isWholeTree(input.target) ? "./..." : input.target];
  // top-level tests only: a failed subtest reruns with its parent (the parent decides its subtests)
  const tops = unique(input.select.map((item) => item.path[0] ?? "").filter((name) => name !== ""));
  return [...args, "-run", `^(${tops.map(escapeRegExp).join("|")})$`, ...unique(input.select.map((item) => item.file))];
}

export function buildInvocation(input: InvocationInput): RunnerInvocation {
  switch (input.runner) {
    case "pytest": {
      const report = path.join(input.scratch, `${input.label}-report.xml`);
      return { command: pytest(input, report), reportFormat: "junit", reportPath: report };
    }
    case "node": {
      const report = path.join(input.scratch, `${input.label}-report.jsonl`);
      return { command: node(input, report), reportFormat: "node-events", reportPath: report };
    }
    case "vitest": {
      const report = path.join(input.scratch, `${input.label}-report.xml`);
      return { command: vitest(input, report), reportFormat: "junit", reportPath: report };
    }
    case "go":
      return { command: go(input), reportFormat: "go-json", reportPath: undefined };
  }
}

/** Tests a rerun can select: those with a name (a whole crashed file or package cannot be picked alone). */
export function selectable(runner: RunnerName, location: TestLocation): boolean {
  if (location.path.length === 0 || location.file === "") return false;
  return runner !== "go" || location.path[0] !== undefined;
}
