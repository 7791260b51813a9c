/**
 * `kodo suite run`: the 15-case dogfood suite (seed 002) against a repository, through kodo's own
 * layers — a kodo worktree, the sandboxed OpenCode server, the policy answering every ask, the
 * worktree audit after every case. Stages gate each other (T1 → T2a → T2b → T3 → T4): a stage
 * runs only when the one before it passed. `failFast` stops at the first failing case; a failure
 * of the safety rails (GITCLEANFAIL, MODIFICATIONFAIL, WORKTREE_REQUIRED, …) stops at once anyway.
 * Everything lands in `<ledger>/RUN_NNNN/`; see docs/suite.md.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { KodoConfig } from "../config.js";
import { describeError, KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { runGit } from "../workspace/git.js";
import type { Script } from "../model/scripted/script.js";
import { runCase, type CaseEnvironment, type CaseOutcome } from "./case-runner.js";
import { CASES, STAGES, type CaseId, type Stage, type SuiteCase } from "./cases.js";
import { allocateRun, jsonText, writeWithSidecar } from "./ledger.js";
import { suitePolicy } from "./policy.js";
import { resultPath, RunSummarySchema, RUN_SUMMARY_SCHEMA_ID, SCHEMA_VERSION, validated, type RunSummary } from "./schemas.js";
import { startSuiteAgent, startSuiteModel, suiteModelId, usesScriptedModel, type SuiteAgent, type SuiteModel } from "./suite-agent.js";
import { entryCheck, porcelainStatus, prepareWorkspace, removeSuiteWorktree, type SuiteTarget, type SuiteWorkspace } from "./workspace.js";
import { sealBundle } from "../evidence/bundle.js";

export interface SuiteOptions {
  config: KodoConfig;
  /** the repository under test (default: the current directory) */
  repo?: string;
  /** run in this existing checkout instead of a new kodo worktree (T2b and later need a kodo worktree) */
  worktree?: string;
  /** the stages to run (default all); the others count as skipped */
  stages?: readonly Stage[];
  /** the cases to run (default every case of the stages) */
  cases?: readonly CaseId[];
  failFast?: boolean;
  /** default `<kodo home>/suite` */
  ledgerDir?: string;
  /** use the shipped scripted model even when an endpoint is configured */
  offline?: boolean;
  /** a model script instead of the shipped one (offline) */
  modelScript?: Script;
  log?: (line: string) => void;
  /** each case as it ends */
  onCase?: (outcome: CaseOutcome) => void;
  /** aborting stops the run: the running case is interrupted, the rest skipped */
  signal?: AbortSignal;
}

export interface SuiteReport {
  runId: string;
  runDir: string;
  summary: RunSummary;
  /** why each failed case failed, in words */
  failures: { caseId: CaseId; code: string | null; message: string | null }[];
  model: { kind: "scripted" | "endpoint"; id: string };
  /** the suite's directory and whether it was removed (only after a PASS, only a worktree kodo made) */
  workspace: { directory: string | null; branch: string | null; removed: boolean; note: string };
}

/** The cases a run executes, in suite order. */
export function selectCases(o: { stages?: readonly Stage[]; cases?: readonly CaseId[] }): SuiteCase[] {
  const stages = new Set(o.stages ?? STAGES);
  const ids = o.cases === undefined ? undefined : new Set(o.cases);
  return CASES.filter((kase) => stages.has(kase.stage) && (ids === undefined || ids.has(kase.id)));
}

const MAX_STALL_MS = 120_000;
const MAX_TURN_MS = 600_000;

export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const { config } = options;
  const log = options.log ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;
  const selected = selectCases(options);
  if (selected.length === 0) throw new KodoError("VALIDATION_FAILED", "no case selected: check --stages and --case");
  const worktreesRoot = path.join(config.home.root, "worktrees");
  const ledgerDir = path.resolve(options.ledgerDir ?? path.join(config.home.root, "suite"));
  const target = await entryCheck({ repo: path.resolve(options.repo ?? process.cwd()), ...(options.worktree === undefined ? {} : { existing: path.resolve(options.worktree) }) });
  await assertLedgerOutside(ledgerDir, target, worktreesRoot);

  const { runId, dir: runDir } = await allocateRun(ledgerDir);
  log(`${runId}: ${selected.length} case(s), ledger ${runDir}`);
  const repoCommit = target.kind === "repository" ? target.baseCommit : target.head;
  const executed = new Map<CaseId, CaseOutcome>();
  let stopReason: string | null = null;
  let workspace: SuiteWorkspace | undefined;
  /** started on first use: the model, then OpenCode */
  const started: { model?: SuiteModel; agent?: Promise<SuiteAgent> } = {};
  const modelChoice = { config, offline: options.offline === true, script: options.modelScript };
  const modelId = suiteModelId(modelChoice);

  try {
    try {
      await mkdir(worktreesRoot, { recursive: true });
      workspace = await prepareWorkspace(target, { worktreesRoot, runId, log });
    } catch (error) {
      stopReason = `setup failed: ${errorText(error)}`;
    }
    if (workspace !== undefined) {
      const { directory } = workspace;
      const kodoWorktree = workspace.worktree !== undefined;
      const masked = [...new Set([config.home.root, ledgerDir])];
      const policy = await suitePolicy();
      const agent = (): Promise<SuiteAgent> =>
        (started.agent ??= (async () => {
          const model = await startSuiteModel(modelChoice);
          started.model = model;
          log(`model: ${model.kind === "scripted" ? `the scripted model at ${model.baseUrl}` : `${model.model} at ${model.baseUrl}`}`);
          const suiteAgent = await startSuiteAgent({
            config,
            model,
            policy,
            stateDir: path.join(config.home.root, "opencode-suite"),
            logFile: path.join(config.home.logs, "opencode-suite.log"),
            // the agent may write its own worktree and nothing else (not even the other worktrees of the root)
            writable: kodoWorktree ? [directory] : [],
            readOnly: kodoWorktree ? [] : [directory],
            masked,
            log,
          });
          log(`OpenCode ready, agent ${suiteAgent.confinement}`);
          return suiteAgent;
        })());
      const environment: CaseEnvironment = {
        runId,
        runDir,
        workspace,
        worktreesRoot,
        agent,
        modelId: `kodo/${modelId}`,
        limits: { stallMs: Math.min(config.agentStallMs, MAX_STALL_MS), timeoutMs: Math.min(config.agentTurnTimeoutMs, MAX_TURN_MS) },
        modelRequests: () => started.model?.requests(),
        abortSessions: async () => {
          if (started.agent !== undefined) await (await started.agent).abortAll();
        },
        test: { directory, masked, allowUnsandboxed: config.agentSandbox !== "required" },
        signal,
        log,
      };
      try {
        stopReason = await runStages(selected, environment, { failFast: options.failFast === true, executed, ...(options.onCase === undefined ? {} : { onCase: options.onCase }) });
      } catch (error) {
        // a fault of kodo's (not of a case): the run still gets its summary
        stopReason = `INTERNAL: ${errorText(error)}`;
        log(`the run stopped on an internal error: ${errorText(error)}`);
      }
    }
  } finally {
    if (started.agent !== undefined) await started.agent.then((agent) => agent.stop()).catch((error: unknown) => log(`stopping OpenCode: ${describeError(error)}`));
    await started.model?.close();
  }

  const summary = summarize(runId, repoCommit, executed, stopReason);
  await writeWithSidecar(path.join(runDir, "run_summary.json"), jsonText(summary));
  // one manifest over the whole run directory: `kodo verify RUN_DIR` checks it as a bundle
  await sealBundle(runDir, { runId });
  let removal = { removed: false, note: workspace === undefined ? "no workspace was made" : `kept ${workspace.directory} for inspection (the run did not pass)` };
  if (workspace !== undefined && summary.final_verdict === "PASS") removal = await removeSuiteWorktree(workspace);
  log(`${runId}: ${summary.final_verdict} (${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped); ${removal.note}`);
  return {
    runId,
    runDir,
    summary,
    failures: [...executed.values()]
      .filter((outcome) => outcome.result.status === "FAIL")
      .map((outcome) => ({ caseId: outcome.result.case_id as CaseId, code: outcome.result.failure_code, message: outcome.message })),
    model: { kind: usesScriptedModel(modelChoice) ? "scripted" : "endpoint", id: modelId },
    workspace: { directory: workspace?.directory ?? null, branch: workspace?.worktree?.branch ?? null, removed: removal.removed, note: removal.note },
  };
}

/** Runs the selected cases stage by stage; returns why the run stopped early, or null. */
async function runStages(
  selected: readonly SuiteCase[],
  env: CaseEnvironment,
  o: { failFast: boolean; executed: Map<CaseId, CaseOutcome>; onCase?: (outcome: CaseOutcome) => void },
): Promise<string | null> {
  let previous: { stage: Stage; failed: CaseId[] } | undefined;
  for (const stage of STAGES) {
    const cases = selected.filter((kase) => kase.stage === stage);
    if (cases.length === 0) continue;
    if (previous !== undefined && previous.failed.length > 0) {
      return `stage ${previous.stage} did not pass (${previous.failed.join(", ")} failed): ${stage} and later stages are skipped`;
    }
    const status = await porcelainStatus(env.workspace.directory);
    if (status !== "") return `stage ${stage} entry: the tree is not clean:\n${status.trimEnd()}`;
    const failed: CaseId[] = [];
    for (const kase of cases) {
      if (env.signal.aborted) return "INTERRUPTED: the run was interrupted (Ctrl-C)";
      env.log(`${kase.id} ${kase.stage} ${kase.purpose} …`);
      const outcome = await withAbort(env, () => runCase(kase, env));
      o.executed.set(kase.id, outcome);
      o.onCase?.(outcome);
      const { result } = outcome;
      env.log(`${kase.id} ${result.status} (${result.actual_outcome}${result.failure_code === null ? "" : ` ${result.failure_code}`}) ${result.duration_ms} ms`);
      if (result.status === "PASS") continue;
      failed.push(kase.id);
      if (result.failure_code === "INTERRUPTED" || env.signal.aborted) return "INTERRUPTED: the run was interrupted (Ctrl-C)";
      if (outcome.stops) return `${kase.id} failed with ${result.failure_code ?? "?"}: a safety rail stops the suite at once (${outcome.message ?? ""})`;
      if (o.failFast) return `--fail-fast: ${kase.id} failed (${result.failure_code ?? "?"}: ${outcome.message ?? ""})`;
    }
    previous = { stage, failed };
  }
  return null;
}

/** Aborts the case's agent sessions when the run is interrupted (the turn then ends at once). */
async function withAbort<T>(env: CaseEnvironment, work: () => Promise<T>): Promise<T> {
  const onAbort = (): void => void env.abortSessions().catch(() => undefined);
  env.signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await work();
  } finally {
    env.signal.removeEventListener("abort", onAbort);
  }
}

function summarize(runId: string, repoCommit: string, executed: ReadonlyMap<CaseId, CaseOutcome>, stopReason: string | null): RunSummary {
  const cases = CASES.map((kase) => {
    const result = executed.get(kase.id)?.result;
    return {
      case_id: kase.id,
      stage: kase.stage,
      expected_outcome: kase.expected,
      actual_outcome: result?.actual_outcome ?? null,
      status: result?.status ?? ("SKIPPED" as const),
      failure_code: result?.failure_code ?? null,
      result: result === undefined ? null : resultPath(kase.id),
    };
  });
  const count = (status: string): number => cases.filter((entry) => entry.status === status).length;
  const failed = count("FAIL");
  return validated(
    RunSummarySchema,
    {
      schema_id: RUN_SUMMARY_SCHEMA_ID,
      schema_version: SCHEMA_VERSION,
      run_id: runId,
      repo_commit: repoCommit,
      total_cases: cases.length,
      passed: count("PASS"),
      failed,
      skipped: count("SKIPPED"),
      final_verdict: failed === 0 && stopReason === null ? "PASS" : "FAIL",
      stop_reason: stopReason,
      cases,
    },
    "run_summary.json",
  );
}

function errorText(error: unknown): string {
  return error instanceof KodoError ? `${error.code}: ${error.message}` : describeError(error);
}

/**
 * The ledger must not lie where the cases run (writing it would change that tree), nor in the
 * repository's checkout unless git ignores it there (the next run's entry check would find the
 * checkout dirty).
 */
async function assertLedgerOutside(ledgerDir: string, target: SuiteTarget, worktreesRoot: string): Promise<void> {
  const refuse = (tree: string, why: string): KodoError =>
    new KodoError("VALIDATION_FAILED", `the ledger ${ledgerDir} lies inside ${tree}${why}: choose another --ledger`, { details: { ledgerDir, tree } });
  if (target.kind === "checkout") {
    if (isWithin(target.directory, ledgerDir)) throw refuse(target.directory, ", where the cases run");
    return;
  }
  if (isWithin(worktreesRoot, ledgerDir)) throw refuse(worktreesRoot, ", where the suite's worktree goes");
  if (isWithin(target.repoRoot, ledgerDir)) {
    const ignored = await runGit(["check-ignore", "-q", "--no-index", path.join(path.relative(target.repoRoot, ledgerDir), "RUN_0001")], { cwd: target.repoRoot, allowFail: true });
    if (ignored.code !== 0) throw refuse(target.repoRoot, " and git does not ignore it there (its runs would make the checkout dirty)");
  }
}
