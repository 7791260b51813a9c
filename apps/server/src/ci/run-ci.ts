/**
 * `kodo ci run`: one task, start to end, in one process, for a CI job. Starts kodo (Postgres,
 * DBOS, OpenCode, the API) in an ephemeral home, runs the task file's task through the normal
 * workflow, and leaves `result.json`, `junit.xml` and the evidence bundle in the out directory.
 * The mission watchdog bounds the whole thing: on timeout the run is cancelled and kodo stopped.
 */
import path from "node:path";
import type { Run, Usage } from "@kodo/contracts";
import { loadConfig, type KodoConfig } from "../config.js";
import { writeRunEvidence } from "../evidence/run-evidence.js";
import { describeError, KodoError } from "../lib/errors.js";
import { kodoVersion } from "../lib/version.js";
import { startKodo, type Kodo } from "../kodo.js";
import { Mission, within } from "./mission.js";
import { copyEvidence, writeReports } from "./out-dir.js";
import { classifyRun, classifySetupError, type CiExitCode, type CiStatus, type CiVerdict } from "./outcome.js";
import { loadTaskFile } from "./task-file.js";
import { awaitEvidence, chooseHome, createRequest, errorParts, followRun, problemsOf, removeHome } from "./job-parts.js";

export interface CiOptions {
  taskFile: string;
  missionTimeoutSeconds: number;
  /** default `./kodo-ci-out` */
  outDir?: string;
  /** keep the temporary home (ignored when KODO_HOME is set: that home is never removed) */
  keepHome?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** progress lines (the CLI writes them to stderr) */
  log: (line: string) => void;
  /** the job's own cancellation (SIGINT/SIGTERM): handled like a timeout, status `interrupted` */
  interrupt?: AbortSignal;
}

export interface CiResult {
  status: CiStatus;
  exitCode: CiExitCode;
  code: string | null;
  message: string;
  /** what a CLIFAIL (or another wrapped failure) was underneath */
  cause: { code: string; message: string } | null;
  taskFile: string;
  title: string | null;
  taskId: string | null;
  runId: string | null;
  runStatus: Run["status"] | null;
  missionTimeoutSeconds: number;
  durations: { totalMs: number; startupMs: number | null; runMs: number | null; shutdownMs: number | null };
  usage: Usage | null;
  /** the bundle in the out directory, and whether the copy verified */
  evidenceDir: string | null;
  evidenceVerified: boolean | null;
  outDir: string;
  home: string | null;
  homeKept: boolean;
  /** false when a part of kodo did not stop within its bound */
  cleanupComplete: boolean;
  startedAt: string;
  finishedAt: string;
  kodoVersion: string;
}

const CANCEL_BOUND_MS = 30_000;
/** a start cut off by the watchdog is waited for this long, then stopped */
const START_GRACE_MS = 120_000;
const STOP_BOUND_MS = 90_000;

/** What one CI job has got to; each phase below moves it on. */
interface Job {
  options: CiOptions;
  mission: Mission;
  outDir: string;
  taskFile: string;
  durations: CiResult["durations"];
  verdict?: CiVerdict;
  cause: CiResult["cause"];
  title: string | null;
  home?: { home: string; own: boolean };
  config?: KodoConfig;
  starting?: Promise<Kodo>;
  kodo?: Kodo;
  taskId: string | null;
  runId: string | null;
  run?: Run;
  runBegan?: number;
  evidenceDir: string | null;
  evidenceVerified: boolean | null;
  cleanupComplete: boolean;
}

/** Start kodo, create and run the task, follow it to its end. Throws whatever stops it. */
async function runTask(job: Job): Promise<void> {
  const { mission, options } = job;
  const loaded = await loadTaskFile(job.taskFile);
  job.title = loaded.task.title;
  job.home = await chooseHome(options.env);
  const config = loadConfig({ ...options.env, KODO_HOME: job.home.home });
  job.config = config;
  options.log(`kodo ci: home ${job.home.home}, mission timeout ${options.missionTimeoutSeconds} s`);
  const startBegan = performance.now();
  job.starting = startKodo({ config, port: 0, log: (line) => options.log(`  ${line}`) });
  try {
    job.kodo = await mission.race(job.starting);
  } catch (error) {
    if (mission.ended !== undefined) throw error;
    job.cause = errorParts(error);
    throw new KodoError("CLIFAIL", `kodo could not start: ${job.cause.code}: ${job.cause.message}`, { cause: error });
  }
  job.durations.startupMs = Math.round(performance.now() - startBegan);
  const service = job.kodo.service;
  job.runBegan = performance.now();
  const settings = loaded.task.verify;
  if (settings?.testRoots !== undefined) {
    await mission.race(service.putRepoSettings({ repoPath: loaded.repoPath, testRoots: settings.testRoots, ...(settings.runner === undefined ? {} : { runner: settings.runner }) }));
  }
  const task = await mission.race(service.createTask(createRequest(loaded)));
  job.taskId = task.id;
  const runId = (await mission.race(service.executeTask(task.id))).runId;
  job.runId = runId;
  options.log(`kodo ci: task ${task.id} "${task.title}", run ${runId}`);
  job.run = await followRun(service, runId, mission, options.log);
  job.durations.runMs = Math.round(performance.now() - job.runBegan);
  job.verdict = classifyRun(job.run);
  job.run = await awaitEvidence(service, job.run, mission);
}

/** Why the job stopped early: the watchdog (then the run is cancelled) or a failure before the run ended. */
async function judgeFailure(job: Job, error: unknown): Promise<void> {
  if (job.verdict !== undefined) return; // the run ended; only waiting for its evidence failed
  const { mission, options } = job;
  if (mission.ended === undefined) {
    const { code, message } = errorParts(error);
    job.verdict = classifySetupError(code, message);
    options.log(`kodo ci: ${code}: ${message}`);
    for (const problem of problemsOf(error)) options.log(`  ${problem}`);
    return;
  }
  const ended = mission.error();
  job.verdict = classifySetupError(ended.code, ended.message);
  options.log(`kodo ci: ${ended.code}: ${ended.message}`);
  if (job.kodo === undefined || job.runId === null) return;
  // cancel: the workflow is cancelled, the session aborted, the status and the evidence written
  const { service } = job.kodo;
  const runId = job.runId;
  const cancelled = await within(
    service.cancelRun(runId, `${ended.code}: ${ended.message}`).catch(() => service.getRun(runId)),
    CANCEL_BOUND_MS,
  ).catch(() => ({ done: false as const }));
  if (cancelled.done) job.run = cancelled.value;
  else job.cleanupComplete = false;
}

/** The run's bundle, copied into the out directory (written now if the run has none), while the database still runs. */
async function collectEvidence(job: Job): Promise<void> {
  const { kodo, runId, config } = job;
  if (kodo === undefined || runId === null || config === undefined) return;
  const collected = await within(
    (async () => {
      const latest = await kodo.service.getRun(runId);
      const source = latest.evidencePath ?? (await writeRunEvidence({ pool: kodo.database.pool, runsDir: config.home.runs, runId })).dir;
      return { latest, copy: await copyEvidence(source, job.outDir) };
    })(),
    CANCEL_BOUND_MS,
  ).catch((error: unknown) => {
    job.options.log(`kodo ci: the evidence bundle could not be copied: ${describeError(error)}`);
    return { done: false as const };
  });
  if (!collected.done) return;
  job.run = collected.value.latest;
  job.evidenceDir = collected.value.copy.dir;
  job.evidenceVerified = collected.value.copy.verdict.ok;
}

/** Stops everything kodo started (a start the watchdog cut off, once it is up), then removes a temporary home. */
async function shutDown(job: Job): Promise<boolean> {
  const began = performance.now();
  if (job.kodo === undefined && job.starting !== undefined) {
    const late = await within(job.starting, START_GRACE_MS).catch(() => ({ done: false as const }));
    if (late.done) job.kodo = late.value;
  }
  if (job.kodo !== undefined) {
    const stopped = await within(job.kodo.stop(), STOP_BOUND_MS).catch(() => ({ done: false as const }));
    if (!stopped.done) job.cleanupComplete = false;
    job.durations.shutdownMs = Math.round(performance.now() - began);
  }
  const home = job.home;
  // a home something may still run in is kept, to be looked at
  const kept = home !== undefined && (!home.own || job.options.keepHome === true || !job.cleanupComplete);
  if (home !== undefined && !kept) await removeHome(home.home).catch(() => undefined);
  return kept;
}

export async function runCi(options: CiOptions): Promise<CiResult> {
  const startedAt = new Date();
  const began = performance.now();
  const job: Job = {
    options,
    mission: new Mission(options.missionTimeoutSeconds * 1000, options.interrupt),
    outDir: path.resolve(options.cwd, options.outDir ?? "kodo-ci-out"),
    taskFile: path.resolve(options.cwd, options.taskFile),
    durations: { totalMs: 0, startupMs: null, runMs: null, shutdownMs: null },
    cause: null,
    title: null,
    taskId: null,
    runId: null,
    evidenceDir: null,
    evidenceVerified: null,
    cleanupComplete: true,
  };
  try {
    await runTask(job);
  } catch (error) {
    await judgeFailure(job, error);
  }
  if (job.runBegan !== undefined) job.durations.runMs ??= Math.round(performance.now() - job.runBegan);
  await collectEvidence(job);
  const homeKept = await shutDown(job);
  job.mission.dispose();

  const final = job.verdict ?? classifySetupError("INTERNAL", "the CI run ended without a verdict");
  job.durations.totalMs = Math.round(performance.now() - began);
  const result: CiResult = {
    status: final.status,
    exitCode: final.exitCode,
    code: final.code,
    message: final.message,
    cause: job.cause,
    taskFile: job.taskFile,
    title: job.title,
    taskId: job.taskId,
    runId: job.runId,
    runStatus: job.run?.status ?? null,
    missionTimeoutSeconds: options.missionTimeoutSeconds,
    durations: job.durations,
    usage: job.run?.usage ?? null,
    evidenceDir: job.evidenceDir,
    evidenceVerified: job.evidenceVerified,
    outDir: job.outDir,
    home: job.home?.home ?? null,
    homeKept,
    cleanupComplete: job.cleanupComplete,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    kodoVersion: kodoVersion(),
  };
  await writeReports(job.outDir, result, {
    title: job.title ?? path.basename(job.taskFile),
    status: final.status,
    code: final.code,
    message: final.message,
    durationMs: job.durations.totalMs,
    timestamp: result.startedAt,
    properties: { "kodo.status": final.status, "kodo.exitCode": final.exitCode, "kodo.runId": job.runId, "kodo.taskId": job.taskId, "kodo.runStatus": result.runStatus, "kodo.evidenceDir": job.evidenceDir },
    output: (job.run?.history ?? []).map((change) => `${change.at} ${change.from ?? "-"} -> ${change.to} ${change.reason ?? ""}`),
  });
  return result;
}
