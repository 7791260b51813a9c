/**
 * A run's evidence bundle, `<home>/runs/<runId>/evidence/`: what the run was asked, decided, did
 * and spent, from the database and the artifact files, in one verifiable directory. Written when
 * the run ends (the `WriteEvidence` step; `cancelRun` for cancelled runs); writing again replaces it.
 */
import { lstat, rename, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Pool } from "pg";
import { KodoError } from "../lib/errors.js";
import { recordArtifactFile } from "../store/artifacts.js";
import { loadRunView } from "../store/runs.js";
import { findTask, toTask } from "../store/tasks.js";
import { diffWork } from "../workspace/worktree.js";
import { MANIFEST, writeBundle, type BundleEntry, type Manifest } from "./bundle.js";
import { SIDECAR_SUFFIX, hashFile } from "./sidecar.js";

/** The artifact kind (and name) under which a run's bundle is recorded in kodo.artifacts. */
export const EVIDENCE_KIND = "evidence";
export const EVIDENCE_ARTIFACT_NAME = `evidence/${MANIFEST}`;

export interface RunEvidence {
  dir: string;
  manifest: Manifest;
  /** the manifest's sha256, also recorded in kodo.artifacts: an anchor outside the bundle */
  manifestSha256: string;
}

/** Rows of one run from a table, oldest first, as the database has them. */
async function rows(pool: Pool, sql: string, runId: string): Promise<unknown[]> {
  return (await pool.query(sql, [runId])).rows;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** What the worktree holds against the base commit now, or undefined when there is no worktree left. */
async function worktreeDiff(run: { worktreePath: string | null; branch: string | null; baseCommit: string | null }, repoRoot: string): Promise<string | undefined> {
  if (run.worktreePath === null || run.branch === null || run.baseCommit === null) return undefined;
  if ((await lstat(run.worktreePath).catch(() => undefined)) === undefined) return undefined;
  try {
    return (await diffWork({ path: run.worktreePath, branch: run.branch, baseCommit: run.baseCommit, repoRoot })).patch;
  } catch {
    return undefined;
  }
}

/** The recorded artifacts, copied in under `artifacts/`, and what became of each (`artifacts.json`). */
async function artifactEntries(artifacts: ReadonlyArray<{ kind: string; name: string; path: string; sha256: string; bytes: number }>): Promise<{ entries: BundleEntry[]; index: unknown[] }> {
  const entries: BundleEntry[] = [];
  const index: unknown[] = [];
  for (const artifact of artifacts) {
    if (artifact.kind === EVIDENCE_KIND) continue;
    // `x.sha256` would collide with the sidecar of `x`: such a name is kept with a suffix
    const name = artifact.name.endsWith(SIDECAR_SUFFIX) ? `${artifact.name}.artifact` : artifact.name;
    const bundlePath = `artifacts/${name}`;
    const found = await hashFile(artifact.path).catch(() => undefined);
    if (found === undefined) {
      index.push({ ...artifact, bundlePath: null, problem: "the file is gone" });
      continue;
    }
    entries.push({ path: bundlePath, sourceFile: artifact.path });
    index.push({ ...artifact, bundlePath, ...(found.sha256 === artifact.sha256 ? {} : { problem: `the file changed after it was recorded (now ${found.sha256})` }) });
  }
  return { entries, index };
}

/**
 * Writes the run's bundle (into a temporary sibling, then moved into place, so a reader never
 * sees half of one) and records its manifest as the run's `evidence` artifact.
 */
export async function writeRunEvidence(options: { pool: Pool; runsDir: string; runId: string; now?: Date }): Promise<RunEvidence> {
  const { pool, runsDir, runId } = options;
  const run = await loadRunView(pool, runId);
  if (run === undefined) throw new KodoError("NOT_FOUND", `run ${runId} not found`, { details: { runId } });
  const taskRow = await findTask(pool, run.taskId);
  if (taskRow === undefined) throw new KodoError("NOT_FOUND", `task ${run.taskId} not found`, { details: { taskId: run.taskId } });

  const [ledger, history, events, tests, builds, findings, approvals, planDecision, planVotes] = await Promise.all([
    rows(pool, `SELECT * FROM kodo.model_calls WHERE run_id = $1 ORDER BY id`, runId),
    rows(pool, `SELECT * FROM kodo.status_history WHERE run_id = $1 ORDER BY id`, runId),
    rows(pool, `SELECT * FROM kodo.events WHERE run_id = $1 ORDER BY id`, runId),
    rows(pool, `SELECT * FROM kodo.test_runs WHERE run_id = $1 ORDER BY attempt`, runId),
    rows(pool, `SELECT * FROM kodo.build_attempts WHERE run_id = $1 ORDER BY attempt`, runId),
    rows(pool, `SELECT * FROM kodo.audit_findings WHERE run_id = $1 ORDER BY id`, runId),
    rows(pool, `SELECT * FROM kodo.approvals WHERE run_id = $1 ORDER BY created_at, id`, runId),
    rows(pool, `SELECT * FROM kodo.plan_approvals WHERE run_id = $1`, runId),
    rows(pool, `SELECT * FROM kodo.plan_quorum_votes WHERE run_id = $1 ORDER BY voted_at, approver`, runId),
  ]);
  const recordedDiff = run.artifacts.find((artifact) => artifact.kind === "diff");
  const diff = (await worktreeDiff(run, taskRow.repo_path)) ?? (recordedDiff === undefined ? undefined : { sourceFile: recordedDiff.path });
  const copied = await artifactEntries(run.artifacts);

  const entries: BundleEntry[] = [
    { path: "run.json", content: json({ ...run, artifacts: run.artifacts.filter((artifact) => artifact.kind !== EVIDENCE_KIND), evidencePath: null }) },
    { path: "task.json", content: json({ ...toTask(taskRow, undefined), options: taskRow.options }) },
    ...(run.plan === null ? [] : [{ path: "plan.json", content: json(run.plan) }]),
    { path: "plan-decision.json", content: json({ decision: planDecision[0] ?? null, quorumVotes: planVotes }) },
    ...(diff === undefined ? [] : [typeof diff === "string" ? { path: "diff.patch", content: diff } : { path: "diff.patch", ...diff }]),
    { path: "test-results.json", content: json({ testRuns: tests, buildAttempts: builds }) },
    { path: "ledger.json", content: json(ledger) },
    { path: "audit-findings.json", content: json(findings) },
    { path: "approvals.json", content: json(approvals) },
    { path: "status-history.json", content: json(history) },
    { path: "events.json", content: json(events) },
    { path: "artifacts.json", content: json(copied.index) },
    ...copied.entries,
  ];

  const runDir = path.join(runsDir, runId);
  const dir = path.join(runDir, "evidence");
  const staging = path.join(runDir, `.evidence-${randomBytes(6).toString("hex")}`);
  try {
    const manifest = await writeBundle(staging, entries, { runId, taskId: run.taskId, ...(options.now === undefined ? {} : { createdAt: options.now }) });
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    const manifestFile = path.join(dir, MANIFEST);
    const { sha256, bytes } = await hashFile(manifestFile);
    await recordArtifactFile(pool, { runId, kind: EVIDENCE_KIND, name: EVIDENCE_ARTIFACT_NAME, path: manifestFile, sha256, bytes });
    return { dir, manifest, manifestSha256: sha256 };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
