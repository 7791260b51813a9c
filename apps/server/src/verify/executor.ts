/**
 * runTests: run a worktree's tests in the sandbox, read what they reported, rerun the failed
 * ones alone to tell a flake from a failure, classify, and keep the evidence.
 *
 * - Time: the run gets min(timeoutMs, budget.remainingMs); a spent budget runs nothing
 *   (TEST_TIMEOUT, "budget exhausted"); reruns get what is left. The budget is not mutated:
 *   TestRun.durationMs (reruns included) is what to subtract.
 * - Sandbox: worktree and a scratch dir writable, network off, kodo's home masked, environment
 *   built from nothing (test-env.ts). The scratch dir (reports, HOME, TMPDIR, go caches) is
 *   removed afterwards; the full output logs and the report are kept in `artifactsDir`.
 * - An explicit `command` replaces the runner's base command (e.g. ["uv", "run", "pytest"]); the
 *   report options, the target and rerun selections are still appended, so results stay
 *   machine-readable.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { isWithin } from "../lib/paths.js";
import { KodoError } from "../lib/errors.js";
import { runSandboxed, type SandboxResult } from "../sandbox/index.js";
import { fileArtifact, logArtifacts } from "./artifacts.js";
import { classifyRun } from "./classify.js";
import { readReport } from "./read-report.js";
import { NODE_REPORTER_FILE, NODE_REPORTER_SOURCE } from "./reports/node-reporter.js";
import { buildInvocation, selectable, type RunnerInvocation } from "./runner-commands.js";
import { baseCommand, detectRunner } from "./runners.js";
import { runnerTarget } from "./target.js";
import { defaultKodoHome, scratchDirectories, testEnvironment } from "./test-env.js";
import type { ArtifactRef, ParsedReport, RerunRecord, RunnerName, TestCaseResult, TestLocation, TestRun } from "./types.js";

export interface RunTestsOptions {
  /** the task's worktree (tests run there, writable) */
  worktree: string;
  /** what to run, checked against the test roots by the caller (scope.ts); "." for everything */
  target: string;
  runner?: RunnerName;
  /** the runner's base command instead of the detected one */
  command?: string[];
  /** one run's timeout; default 300 s */
  timeoutMs?: number;
  /** what is left of the task's test time */
  budget: { remainingMs: number };
  /** reruns of the failed tests alone; default 1, 0 disables */
  rerunFailed?: number;
  /** ids that passed earlier in this task (flake evidence) */
  previouslyPassed?: readonly string[];
  /** where the logs and the report are kept (one directory per verification) */
  artifactsDir: string;
  allowUnsandboxed?: boolean;
  /** added to the test environment (paths it names are read-only inside unless in the worktree) */
  env?: Record<string, string>;
  /** hidden inside the sandbox; default: kodo's home */
  masked?: string[];
}

export const DEFAULT_TIMEOUT_MS = 300_000;
export const OUTPUT_LIMIT_BYTES = 50 * 1024;
/** More failed tests than this are not rerun: a mass failure is not a flake. */
export const MAX_RERUN_TESTS = 20;

interface Invoked {
  invocation: RunnerInvocation;
  result: SandboxResult;
  report: ParsedReport | undefined;
  artifacts: ArtifactRef[];
  notes: string[];
}

interface Context {
  worktree: string;
  masked: string[];
  /** where the runner's own files live when that is outside the worktree (made visible read-only) */
  readOnly: string[];
  runner: RunnerName;
  base: string[];
  target: string;
  scratch: string;
  artifactsDir: string;
  options: RunTestsOptions;
}

/**
 * The directories the runner's own files come from, when they lie outside the worktree: the
 * sandbox's private /tmp (and masks) would otherwise hide them — e.g. a repository whose
 * node_modules/vitest is a link into a checkout under /tmp. A file inside a node_modules tree
 * brings that whole tree (its dependencies resolve there); any other file brings its directory.
 */
async function runnerLocations(base: readonly string[], worktree: string): Promise<string[]> {
  const locations = new Set<string>();
  const worktreeReal = await realpath(worktree);
  for (const arg of base) {
    if (!path.isAbsolute(arg)) continue;
    const real = await realpath(arg).catch(() => undefined);
    if (real === undefined || isWithin(worktreeReal, real)) continue;
    const parts = real.split(path.sep);
    const modules = parts.lastIndexOf("node_modules");
    locations.add(modules > 0 ? parts.slice(0, modules + 1).join(path.sep) : path.dirname(real));
  }
  return [...locations];
}

function sandboxNotes(result: SandboxResult): string[] {
  const notes = [...result.notes];
  if (result.cleanup.survivors.length > 0) notes.push(`processes survived the run: ${result.cleanup.survivors.join(", ")}`);
  return notes;
}

async function invoke(context: Context, label: string, timeoutMs: number, select?: TestLocation[]): Promise<Invoked> {
  const invocation = buildInvocation({
    runner: context.runner, base: context.base, worktree: context.worktree, target: context.target,
    scratch: context.scratch, label, ...(select === undefined ? {} : { select }),
  });
  const outputDir = label === "main" ? context.artifactsDir : path.join(context.artifactsDir, label);
  const result = await runSandboxed({
    command: invocation.command,
    cwd: context.worktree,
    writable: [context.worktree, context.scratch],
    masked: context.masked,
    readOnly: context.readOnly,
    network: false,
    env: testEnvironment(context.scratch, context.options.env),
    timeoutMs: Math.max(1, Math.floor(timeoutMs)),
    maxOutputBytes: OUTPUT_LIMIT_BYTES,
    fullOutputDir: outputDir,
    ...(context.options.allowUnsandboxed === true ? { allowUnsandboxed: true } : {}),
  });
  const { report, notes } = await readReport(context.runner, invocation, result, context.worktree);
  const prefix = label === "main" ? "" : `${label}/`;
  const artifacts = await logArtifacts(result, context.artifactsDir);
  if (invocation.reportPath !== undefined) {
    const kept = path.join(outputDir, path.basename(invocation.reportPath).replace(`${label}-`, ""));
    const copied = await copyFile(invocation.reportPath, kept).then(() => true, () => false);
    if (copied) artifacts.push(await fileArtifact(`${prefix}${path.basename(kept)}`, kept));
  }
  return { invocation, result, report, artifacts, notes: [...sandboxNotes(result), ...notes] };
}

function failingCases(report: ParsedReport | undefined): TestCaseResult[] {
  return (report?.cases ?? []).filter((item) => item.outcome === "failed" || item.outcome === "error");
}

async function rerunFailed(context: Context, main: Invoked, started: number): Promise<{ reruns: RerunRecord[]; notes: string[] }> {
  const count = context.options.rerunFailed ?? 1;
  const failing = failingCases(main.report);
  const notes: string[] = [];
  if (count <= 0 || failing.length === 0 || main.result.timedOut || (main.report?.collectionProblems.length ?? 0) > 0) return { reruns: [], notes };
  let pending = failing.filter((item) => selectable(context.runner, item.location));
  if (pending.length < failing.length) notes.push(`${failing.length - pending.length} failure(s) name no single test (a whole file or package) and are not rerun`);
  if (pending.length > MAX_RERUN_TESTS) {
    notes.push(`${pending.length} tests failed: more than ${MAX_RERUN_TESTS}, so none is rerun (a mass failure is not a flake)`);
    return { reruns: [], notes };
  }
  const reruns: RerunRecord[] = [];
  const timeoutMs = context.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (let attempt = 1; attempt <= count && pending.length > 0; attempt += 1) {
    const remaining = context.options.budget.remainingMs - (performance.now() - started);
    if (remaining < 1) {
      notes.push(`no test budget left for rerun ${attempt}`);
      break;
    }
    const rerun = await invoke(context, `rerun-${attempt}`, Math.min(timeoutMs, remaining), pending.map((item) => item.location));
    const outcomes = new Map((rerun.report?.cases ?? []).map((item) => [item.id, item.outcome]));
    const ids = pending.map((item) => item.id);
    const passed = ids.filter((id) => outcomes.get(id) === "passed");
    reruns.push({
      attempt, command: rerun.invocation.command, ids, passed, stillFailing: ids.filter((id) => !passed.includes(id)),
      exitCode: rerun.result.exitCode, timedOut: rerun.result.timedOut, durationMs: Math.round(rerun.result.durationMs),
      artifacts: rerun.artifacts, notes: rerun.notes,
    });
    pending = pending.filter((item) => !passed.includes(item.id));
  }
  return { reruns, notes };
}

function budgetSpent(runner: RunnerName, options: RunTestsOptions, timeoutMs: number, notes: string[]): TestRun {
  const verdict = classifyRun({
    runner, budgetExhausted: true, timedOut: false, timeoutMs, exitCode: null, signal: null, report: undefined,
    stderrTail: "", previouslyPassed: options.previouslyPassed ?? [], reruns: [],
  });
  const empty = { text: "", truncated: false, totalBytes: 0 };
  return {
    class: verdict.class, code: verdict.code, reason: verdict.reason, runner, command: [],
    counts: { passed: 0, failed: 0, errors: 0, skipped: 0, total: 0 }, failed: [], passedIds: [], collectionProblems: [],
    exitCode: null, signal: null, durationMs: 0, timedOut: false, effectiveTimeoutMs: 0, stdout: empty, stderr: empty,
    artifacts: [], sandboxed: false, notes: [...notes, "not run: the test budget was already spent"], reruns: [], evidence: verdict.evidence,
  };
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split("\n").slice(-count).join("\n");
}

export async function runTests(options: RunTestsOptions): Promise<TestRun> {
  const started = performance.now();
  const worktree = await realpath(options.worktree).catch(() => {
    throw new KodoError("WORKTREE_REQUIRED", `the worktree ${options.worktree} does not exist`);
  });
  const detected = options.runner === undefined ? await detectRunner(worktree, options.target) : { runner: options.runner, evidence: "the task's runner setting" };
  const notes = [`runner ${detected.runner}: ${detected.evidence}`];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs >= 1)) throw new KodoError("BAD_REQUEST", `the test timeout must be at least 1 ms: ${timeoutMs}`);
  const effectiveTimeoutMs = Math.min(timeoutMs, options.budget.remainingMs);
  // under a millisecond is spent too (the sandbox's timeout is whole milliseconds, at least 1)
  if (effectiveTimeoutMs < 1) return budgetSpent(detected.runner, options, timeoutMs, notes);
  if (effectiveTimeoutMs < timeoutMs) notes.push(`timeout ${timeoutMs} ms cut to the ${Math.round(effectiveTimeoutMs)} ms left in the budget`);

  const target = await runnerTarget(worktree, detected.runner, options.target);
  const base = options.command ?? (await baseCommand(detected.runner, worktree));
  if (base.length === 0) throw new KodoError("BAD_REQUEST", "the explicit test command is empty");
  await mkdir(options.artifactsDir, { recursive: true });
  const scratch = await mkdtemp(path.join(os.tmpdir(), "kodo-verify-"));
  try {
    for (const dir of scratchDirectories(scratch, detected.runner)) await mkdir(dir, { recursive: true });
    if (detected.runner === "node") await writeFile(path.join(scratch, NODE_REPORTER_FILE), NODE_REPORTER_SOURCE);
    // kodo's home by default (when there is one: masking a missing path only adds a note)
    const masked = options.masked ?? (existsSync(defaultKodoHome()) ? [defaultKodoHome()] : []);
    const readOnly = await runnerLocations(base, worktree);
    const context: Context = { worktree, masked, readOnly, runner: detected.runner, base, target, scratch, artifactsDir: options.artifactsDir, options };
    const main = await invoke(context, "main", effectiveTimeoutMs);
    const { reruns, notes: rerunNotes } = await rerunFailed(context, main, started);
    const verdict = classifyRun({
      runner: detected.runner, budgetExhausted: false, timedOut: main.result.timedOut, timeoutMs: effectiveTimeoutMs,
      exitCode: main.result.exitCode, signal: main.result.signal, report: main.report,
      stderrTail: lastLines(main.result.stderr.text, 20), previouslyPassed: options.previouslyPassed ?? [], reruns,
    });
    const cases = main.report?.cases ?? [];
    return {
      class: verdict.class,
      code: verdict.code,
      reason: verdict.reason,
      runner: detected.runner,
      command: main.invocation.command,
      counts: main.report?.counts ?? { passed: 0, failed: 0, errors: 0, skipped: 0, total: 0 },
      failed: failingCases(main.report).map((item) => ({ id: item.id, message: item.message })),
      passedIds: cases.filter((item) => item.outcome === "passed").map((item) => item.id),
      collectionProblems: main.report?.collectionProblems ?? [],
      exitCode: main.result.exitCode,
      signal: main.result.signal,
      durationMs: Math.round(performance.now() - started),
      timedOut: main.result.timedOut,
      effectiveTimeoutMs: Math.round(effectiveTimeoutMs),
      stdout: { text: main.result.stdout.text, truncated: main.result.stdout.truncated, totalBytes: main.result.stdout.totalBytes },
      stderr: { text: main.result.stderr.text, truncated: main.result.stderr.truncated, totalBytes: main.result.stderr.totalBytes },
      artifacts: [...main.artifacts, ...reruns.flatMap((rerun) => rerun.artifacts)],
      sandboxed: main.result.sandboxed,
      notes: [...notes, ...main.notes, ...(main.report?.notes ?? []), ...rerunNotes],
      reruns,
      evidence: verdict.evidence,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}
