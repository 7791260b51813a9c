/**
 * The frame around one case: the worktree predicate (stages from T2b on), the tree's state before,
 * the case's body, what changed (read before any restore), the worktree audit and the policy's
 * denials, the verdict, the evidence and the result document. The audit and the policy outrank
 * the body: a case that deleted or wrote where it may not fails with that code whatever it said.
 */
import path from "node:path";
import { compareBytes } from "../evidence/sidecar.js";
import { describeError } from "../lib/errors.js";
import { assertKodoWorktree } from "../workspace/worktree-guard.js";
import { CASE_BODIES, CaseFailure, failureOf, INVALID_MODEL_ID, type CaseContext } from "./case-bodies.js";
import { needsWorktree, SAFETY_CODES, verdictOf, type FailureCode, type SuiteCase } from "./cases.js";
import type { TestRunOptions } from "./checks.js";
import { captureChanges, itemIndex, startCapture, writeCaseEvidence, type CaseChanges } from "./evidence.js";
import { jsonText, writeWithSidecar } from "./ledger.js";
import { CaseResultSchema, CASE_RESULT_SCHEMA_ID, resultPath, SCHEMA_VERSION, validated, type CaseResult } from "./schemas.js";
import type { SuiteAgent } from "./suite-agent.js";
import { treeGuard, type GuardVerdict } from "./tree-guard.js";
import { commitSuiteWork, headOf, porcelainStatus, type SuiteWorkspace } from "./workspace.js";

/** Policy denials that show the agent tried to do damage (as the workflow's audit step counts them). */
const VIOLATION_CODES: ReadonlySet<string> = new Set(["GITCLEANFAIL", "MODIFICATIONFAIL", "DESTRUCTIVE_GIT"]);

export const TRANSPORT = "opencode-http";

export interface CaseEnvironment {
  runId: string;
  runDir: string;
  workspace: SuiteWorkspace;
  worktreesRoot: string;
  agent(): Promise<SuiteAgent>;
  /** the model id as OpenCode names it (`kodo/<model>`) */
  modelId: string;
  limits: { stallMs: number; timeoutMs: number };
  modelRequests(): number | undefined;
  /** aborts the agent's open sessions, if it was started (an interrupt) */
  abortSessions(): Promise<void>;
  test: TestRunOptions;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface CaseOutcome {
  result: CaseResult;
  /** why it failed, in words (the result carries only the code) */
  message: string | null;
  /** a failure that stops the suite at once (the seed's safety rails) */
  stops: boolean;
}

async function worktreeCheck(kase: SuiteCase, env: CaseEnvironment): Promise<{ text: string; refused: string | undefined }> {
  const { workspace } = env;
  const required = needsWorktree(kase.stage);
  let refused = workspace.notKodoWorktree;
  if (refused === undefined) {
    refused = await assertKodoWorktree(workspace.directory, { worktreesRoot: env.worktreesRoot }).then(
      () => undefined,
      (error: unknown) => describeError(error),
    );
  }
  const verdict = refused === undefined ? "PASS" : required ? "WORKTREE_REQUIRED" : "PASS (not required: this stage only reads)";
  const text = [
    `directory: ${workspace.directory}`,
    `stage: ${kase.stage} (${required ? "writes: requires a kodo worktree" : "reads only"})`,
    `predicate: a linked git worktree kodo created in ${env.worktreesRoot} on its kodo/ branch`,
    `kodo worktree: ${refused === undefined ? "yes" : `no (${refused})`}`,
    `verdict: ${verdict}`,
  ].join("\n");
  return { text, refused: required ? refused : undefined };
}

interface Observed {
  /** the audit's, else the policy's, else the body's own */
  failure: CaseFailure | null;
  changes: CaseChanges;
  guard: GuardVerdict;
  /** the case opened an agent session (model_id and transport are null otherwise) */
  reachedAgent: boolean;
}

/** The tree before, the body, what changed (read before any restore), the audit and the policy's denials. */
async function observeCase(kase: SuiteCase, env: CaseEnvironment, out: string[], err: string[]): Promise<Observed> {
  const { workspace } = env;
  const sessions: string[] = [];
  let agent: SuiteAgent | undefined;
  const tree = treeGuard(workspace);
  const before = await tree.before();
  const start = await startCapture(workspace.directory);
  const context: CaseContext = {
    id: kase.id,
    directory: workspace.directory,
    agent: async () => (agent = await env.agent()),
    limits: env.limits,
    say: (line) => out.push(line),
    note: (line) => err.push(line),
    sessions,
    modelRequests: env.modelRequests,
    test: env.test,
    signal: env.signal,
  };
  let bodyFailure: CaseFailure | null = null;
  try {
    await CASE_BODIES[kase.id](context);
  } catch (error) {
    bodyFailure = failureOf(env.signal.aborted && !(error instanceof CaseFailure) ? new CaseFailure("INTERRUPTED", "interrupted (Ctrl-C) while the agent worked") : error);
  }
  const changes = await captureChanges(workspace.directory, start);
  const guard = await tree.after(before, kase.access);

  let policyFailure: CaseFailure | null = null;
  for (const sessionId of sessions) {
    for (const answer of agent?.answers(sessionId) ?? []) {
      const what = answer.permission === null ? "question" : `${answer.permission} ${JSON.stringify(answer.patterns.join(" "))}`;
      err.push(`policy: ${answer.reply === "once" ? "allowed" : "denied"} ${what} (${answer.code}): ${answer.reason}`);
      if (answer.reply === "reject" && VIOLATION_CODES.has(answer.code)) {
        policyFailure ??= new CaseFailure(answer.code as FailureCode, `the agent tried ${what}: ${answer.reason}`);
      }
    }
  }
  for (const finding of guard.findings) err.push(`audit: ${finding.blocking ? "" : "(reported only) "}${finding.detail}`);
  err.push(...guard.notes.map((note) => `audit: ${note}`));
  const blocking = guard.findings.find((finding) => finding.blocking);
  const auditFailure = blocking === undefined ? null : new CaseFailure(blocking.code, `worktree audit: ${blocking.detail}`);
  return { failure: auditFailure ?? policyFailure ?? bodyFailure, changes, guard, reachedAgent: sessions.length > 0 };
}

/** Runs `kase` and writes its evidence and result; never throws for a failure of the case itself. */
export async function runCase(kase: SuiteCase, env: CaseEnvironment): Promise<CaseOutcome> {
  const started = performance.now();
  const out: string[] = [];
  const err: string[] = [];
  const { workspace } = env;
  const check = await worktreeCheck(kase, env);
  const head = await headOf(workspace.directory);
  const { failure, changes, guard, reachedAgent }: Observed =
    check.refused === undefined
      ? await observeCase(kase, env, out, err)
      : {
          failure: new CaseFailure("WORKTREE_REQUIRED", `${kase.stage} writes, and ${workspace.directory} is not a kodo worktree: ${check.refused}`),
          changes: { status: await porcelainStatus(workspace.directory), diff: "", newFiles: [] },
          guard: { findings: [], notes: [], restoreFailed: false },
          reachedAgent: false,
        };
  err.push(...itemIndex(changes.newFiles));

  const actual = failure === null ? "SUCCESS" : "FAIL";
  let code: FailureCode | null = failure?.code ?? null;
  if (failure === null && kase.expected === "EXPECTED_FAIL") {
    code = "EVIDENCEMISMATCH";
    err.push(`expected the case to fail with ${kase.expectedCode ?? "?"}, but it succeeded`);
  }
  if (failure !== null) err.push(`${failure.code}: ${failure.message}`);
  const status = verdictOf(kase, actual, code);
  err.push(`verdict: ${status} (expected ${kase.expected}${kase.expectedCode === undefined ? "" : ` ${kase.expectedCode}`}, got ${actual}${code === null ? "" : ` ${code}`})`);

  if (workspace.worktree !== undefined && check.refused === undefined && !guard.restoreFailed) {
    // what is left passed the audit: commit it, so the next case (and stage) starts from a clean tree
    await commitSuiteWork(workspace.worktree, `kodo suite ${env.runId} ${kase.id}: ${status}${code === null ? "" : ` ${code}`}`).then(
      (made) => made && err.push(`committed the case's changes on ${workspace.worktree?.branch ?? "?"}`),
      (error: unknown) => err.push(`could not commit the case's changes: ${describeError(error)}`),
    );
  }

  const evidence = await writeCaseEvidence(env.runDir, kase.id, { stdout: out.join("\n"), stderr: err.join("\n"), changes, head, worktreeCheck: check.text });
  const result = validated(
    CaseResultSchema,
    {
      schema_id: CASE_RESULT_SCHEMA_ID,
      schema_version: SCHEMA_VERSION,
      case_id: kase.id,
      stage: kase.stage,
      expected_outcome: kase.expected,
      actual_outcome: actual,
      status,
      failure_code: code,
      run_id: env.runId,
      duration_ms: Math.round(performance.now() - started),
      model_id: reachedAgent ? (kase.id === "T1C03" ? `kodo/${INVALID_MODEL_ID}` : env.modelId) : null,
      transport: reachedAgent ? TRANSPORT : null,
      repo_commit: workspace.repoCommit,
      evidence: [...evidence].sort((a, b) => compareBytes(a.path, b.path)),
    },
    `${kase.id}.result.json`,
  );
  await writeWithSidecar(path.join(env.runDir, ...resultPath(kase.id).split("/")), jsonText(result));
  const stops = status === "FAIL" && code !== null && (SAFETY_CODES.has(code) || guard.restoreFailed);
  return { result, message: failure?.message ?? (code === null ? null : `expected ${kase.expectedCode ?? "a failure"}, but the case succeeded`), stops };
}
