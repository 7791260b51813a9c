/**
 * `node --test` events (JSON lines written by kodo's reporter, see node-reporter.ts) → test cases.
 *
 * Facts of Node 20's runner this relies on: every event names its `file` (absolute); `test:start`
 * and `test:pass`/`test:fail` come in definition order within a file, so a stack per file and
 * nesting level gives each test its suites; each file runs in its own process and appears as a
 * nesting-0 test named by the file's path, reported as failing (failureType "testCodeFailure",
 * message "test failed") when that process exits non-zero — with no test of its own when the
 * file could not even load (a SyntaxError, a missing import); what the file printed arrives as
 * `test:stderr`.
 */
import path from "node:path";
import { countCases, dropParents, formatTestId, stripAnsi } from "../test-ids.js";
import type { CaseOutcome, CollectionProblem, ParsedReport, TestCaseResult } from "../types.js";

interface NodeEvent {
  t: "start" | "pass" | "fail" | "stderr" | "diag";
  file?: string;
  nesting?: number;
  name?: string;
  suite?: boolean;
  skip?: boolean;
  todo?: boolean;
  ms?: number;
  failureType?: string;
  message?: string;
  text?: string;
}

function readEvent(line: string): NodeEvent | undefined {
  const value: unknown = JSON.parse(line);
  if (typeof value !== "object" || value === null || !("t" in value)) return undefined;
  const kind = value.t;
  if (kind !== "start" && kind !== "pass" && kind !== "fail" && kind !== "stderr" && kind !== "diag") return undefined;
  const event = value as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof event[key] === "string" ? event[key] : undefined);
  const flag = (key: string): boolean => event[key] === true;
  const result: NodeEvent = { t: kind, suite: flag("suite"), skip: flag("skip"), todo: flag("todo") };
  const file = text("file");
  if (file !== undefined) result.file = file;
  const name = text("name");
  if (name !== undefined) result.name = name;
  if (typeof event["nesting"] === "number") result.nesting = event["nesting"];
  if (typeof event["ms"] === "number") result.ms = event["ms"];
  const failureType = text("failureType");
  if (failureType !== undefined) result.failureType = failureType;
  const message = text("message");
  if (message !== undefined) result.message = message;
  const stderr = text("text");
  if (stderr !== undefined) result.text = stderr;
  return result;
}

/** The part of a crashed file's stderr worth showing: up to the first stack frame. */
export function summarizeStderr(stderr: string): string {
  const kept: string[] = [];
  for (const line of stripAnsi(stderr).split("\n")) {
    if (line.trimStart().startsWith("at ") || line.startsWith("Node.js v")) break;
    kept.push(line.trimEnd());
  }
  return kept.join("\n").trim().slice(0, 4000);
}

function isFileTest(event: NodeEvent, cwd: string): boolean {
  if (event.nesting !== 0 || event.name === undefined || event.file === undefined) return false;
  return event.name === event.file || path.resolve(cwd, event.name) === event.file;
}

function outcomeOf(event: NodeEvent): CaseOutcome {
  if (event.skip === true || event.todo === true) return "skipped";
  if (event.t === "pass") return "passed";
  return event.failureType === "testCodeFailure" || event.failureType === "testTimeoutFailure" ? "failed" : "error";
}

/**
 * Parses the JSON lines; `cwd` is where node ran (the worktree), to make files relative.
 * Lines that are not JSON (a truncated last line) are skipped and noted.
 */
export function parseNodeEvents(jsonLines: string, cwd: string): ParsedReport {
  const notes: string[] = [];
  const stacks = new Map<string, string[]>();
  const stderr = new Map<string, string>();
  const fileTests = new Map<string, NodeEvent>();
  const cases: TestCaseResult[] = [];
  let unreadable = 0;
  const relative = (file: string): string => {
    const rel = path.relative(cwd, file);
    return rel === "" || rel.startsWith("..") || path.isAbsolute(rel) ? file : rel.split(path.sep).join("/");
  };
  for (const line of jsonLines.split("\n")) {
    if (line.trim() === "") continue;
    let event: NodeEvent | undefined;
    try {
      event = readEvent(line);
    } catch {
      unreadable += 1;
      continue;
    }
    if (event === undefined || event.file === undefined) continue;
    if (event.t === "stderr") {
      stderr.set(event.file, (stderr.get(event.file) ?? "") + (event.text ?? ""));
      continue;
    }
    if (event.t === "diag" || event.name === undefined || event.nesting === undefined) continue;
    const stack = stacks.get(event.file) ?? [];
    stacks.set(event.file, stack);
    if (event.t === "start") {
      stack.length = event.nesting;
      stack.push(event.name);
      continue;
    }
    if (isFileTest(event, cwd)) {
      fileTests.set(event.file, event);
      continue;
    }
    // a suite that failed only because its tests failed carries no outcome of its own
    if (event.suite === true && (event.t === "pass" || event.failureType === "subtestsFailed")) continue;
    const location = { file: relative(event.file), path: [...stack.slice(0, event.nesting), event.name] };
    const outcome = outcomeOf(event);
    cases.push({
      id: formatTestId("node", location),
      location,
      outcome,
      message: outcome === "failed" || outcome === "error" ? stripAnsi(event.message ?? "") : "",
      ...(event.ms === undefined ? {} : { durationMs: Math.round(event.ms) }),
    });
  }
  if (unreadable > 0) notes.push(`${unreadable} unreadable line(s) in the node event report`);
  const collectionProblems: CollectionProblem[] = [];
  for (const [file, event] of fileTests) {
    if (event.t !== "fail" || event.failureType === "subtestsFailed") continue;
    const rel = relative(file);
    const crashed = summarizeStderr(stderr.get(file) ?? "") || (event.message ?? "test file failed");
    if (!cases.some((item) => item.location.file === rel)) {
      collectionProblems.push({ location: rel, message: crashed });
    } else {
      const location = { file: rel, path: [] };
      cases.push({ id: formatTestId("node", location), location, outcome: "error", message: crashed });
    }
  }
  const leaves = dropParents(cases);
  return { format: "node-events", cases: leaves, collectionProblems, counts: countCases(leaves, collectionProblems), notes };
}
