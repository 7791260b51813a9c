/**
 * The JUnit XML report of a CI run: one test case, the task. A failed, denied or timed-out task
 * is a `<failure>` whose type is the code; a run kodo could not carry out is an `<error>`.
 */
import type { CiStatus } from "./outcome.js";

export interface JunitCase {
  title: string;
  status: CiStatus;
  code: string | null;
  message: string;
  durationMs: number;
  timestamp: string;
  properties: Record<string, string | number | null>;
  /** lines for <system-out> (the status history, where everything is) */
  output: readonly string[];
}

/** XML 1.0 text: the five entities escaped, characters XML cannot carry dropped. */
export function xmlText(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

export function junitReport(testCase: JunitCase): string {
  const seconds = (testCase.durationMs / 1000).toFixed(3);
  const failed = testCase.status !== "success";
  const isError = testCase.status === "infrastructure_error" || testCase.status === "invalid_task" || testCase.status === "interrupted";
  const counts = `tests="1" failures="${failed && !isError ? 1 : 0}" errors="${isError ? 1 : 0}"`;
  const properties = Object.entries(testCase.properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== null)
    .map(([name, value]) => `      <property name="${xmlText(name)}" value="${xmlText(String(value))}"/>`);
  const element = isError ? "error" : "failure";
  const verdict = failed
    ? [`      <${element} type="${xmlText(testCase.code ?? testCase.status)}" message="${xmlText(testCase.message)}">${xmlText(`${testCase.status}: ${testCase.code ?? ""} ${testCase.message}`)}</${element}>`]
    : [];
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="kodo ci" ${counts} time="${seconds}">`,
    `  <testsuite name="kodo" ${counts} skipped="0" time="${seconds}" timestamp="${xmlText(testCase.timestamp)}">`,
    ...(properties.length === 0 ? [] : ["    <properties>", ...properties, "    </properties>"]),
    `    <testcase classname="kodo.ci" name="${xmlText(testCase.title)}" time="${seconds}">`,
    ...verdict,
    `      <system-out>${xmlText(testCase.output.join("\n"))}</system-out>`,
    `    </testcase>`,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}
