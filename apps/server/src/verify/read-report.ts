/**
 * After an invocation: the runner's machine-readable report, parsed; when it is missing or
 * unreadable, the console summary instead (said in the notes); undefined when neither exists.
 */
import { open, readFile, stat } from "node:fs/promises";
import type { SandboxResult } from "../sandbox/index.js";
import { parseConsoleSummary } from "./reports/console.js";
import { parseGoJson } from "./reports/go-json.js";
import { parseJunit } from "./reports/junit.js";
import { parseNodeEvents } from "./reports/node-test.js";
import type { RunnerInvocation } from "./runner-commands.js";
import type { ParsedReport, RunnerName } from "./types.js";

/** A report larger than this is not parsed (console fallback). */
const REPORT_LIMIT_BYTES = 64 * 1024 * 1024;
/** For the console fallback: at most this much of the end of a full log. */
const CONSOLE_TAIL_BYTES = 1024 * 1024;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function readLimited(file: string): Promise<string> {
  const info = await stat(file);
  if (info.size > REPORT_LIMIT_BYTES) throw new Error(`${info.size} bytes, over the ${REPORT_LIMIT_BYTES}-byte limit`);
  return readFile(file, "utf8");
}

/** The last `bytes` of a file (all of it when shorter). */
export async function readTail(file: string, bytes: number): Promise<string> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } finally {
    await handle.close();
  }
}

/** The full stream when it was written to a file (its tail, when large), else the captured text. */
async function streamText(stream: SandboxResult["stdout"]): Promise<string> {
  if (stream.file === undefined || !stream.truncated) return stream.text;
  return readTail(stream.file.path, CONSOLE_TAIL_BYTES).catch(() => stream.text);
}

async function parseReport(runner: RunnerName, invocation: RunnerInvocation, result: SandboxResult, cwd: string): Promise<ParsedReport> {
  if (invocation.reportFormat === "go-json") {
    const stdout = result.stdout.file === undefined ? result.stdout.text : await readLimited(result.stdout.file.path);
    const stderr = await streamText(result.stderr);
    const report = parseGoJson(stdout, stderr);
    if (report.cases.length === 0 && report.collectionProblems.length === 0 && report.notes.length > 0) throw new Error(report.notes.join("; "));
    return report;
  }
  if (invocation.reportPath === undefined) throw new Error("no report path");
  const text = await readLimited(invocation.reportPath);
  if (invocation.reportFormat === "node-events") return parseNodeEvents(text, cwd);
  return parseJunit(text, runner === "vitest" ? "vitest" : "pytest");
}

export async function readReport(
  runner: RunnerName,
  invocation: RunnerInvocation,
  result: SandboxResult,
  cwd: string,
): Promise<{ report: ParsedReport | undefined; notes: string[] }> {
  try {
    return { report: await parseReport(runner, invocation, result, cwd), notes: [] };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    const why = missing ? `the ${runner} report was not written` : `the ${runner} report is unreadable (${errorText(error)})`;
    const fallback = parseConsoleSummary(runner, await streamText(result.stdout), await streamText(result.stderr));
    if (fallback === undefined) return { report: undefined, notes: [`${why}, and the console has no summary line`] };
    return { report: fallback, notes: [`${why}: falling back to the console summary`] };
  }
}
