/**
 * The worktree audit around an agent step: a snapshot before (kept in Postgres, so a step re-run
 * after a crash audits against the state before its first try), the audit after, the restore of
 * what was lost, the findings recorded as evidence, and the verdict.
 *
 * A step fails with the code of its first blocking finding, or of a policy denial that shows the
 * agent tried something destructive (GITCLEANFAIL, DESTRUCTIVE_GIT, MODIFICATIONFAIL) — unless the
 * policy's `audit.warn` lists the code. Refs of other branches moving (another run committing, the
 * user working) are reported, never blocking.
 */
import type { ReasonCode } from "../../policy/codes.js";
import { saveArtifact } from "../../store/artifacts.js";
import { POLICY_ACTOR } from "../../store/approvals.js";
import { auditWorktree, restoreWorktree, takeAuditSnapshot, type AuditFinding, type AuditSnapshot, type RestoreResult, type Worktree } from "../../workspace/worktree.js";
import { services } from "./services.js";

/** Policy denials that mean the agent tried to destroy or escape, not just used a tool it may not. */
const VIOLATION_CODES: ReadonlySet<string> = new Set<ReasonCode>(["GITCLEANFAIL", "DESTRUCTIVE_GIT", "MODIFICATIONFAIL"]);

export interface AuditRulesOfRun {
  writeRoots: string[];
  allowDeletions: string[];
  warn: ReadonlySet<ReasonCode>;
}

export interface AuditVerdict {
  /** the first blocking finding or violation: the step fails with it */
  blocking: { code: string; message: string } | null;
  findings: number;
}

interface SnapshotRow {
  snapshot: AuditSnapshot;
  result: AuditVerdict | null;
  created_at: Date;
}

async function findSnapshot(runId: string, stepKey: string): Promise<SnapshotRow | undefined> {
  const result = await services().pool.query<SnapshotRow>(`SELECT snapshot, result, created_at FROM kodo.audit_snapshots WHERE run_id = $1 AND step_key = $2`, [runId, stepKey]);
  return result.rows[0];
}

/** The before-state of the step: the one recorded by an earlier (crashed) try, or a new one. */
async function snapshotBefore(runId: string, stepKey: string, worktree: Worktree): Promise<SnapshotRow> {
  const { pool, clock } = services();
  const found = await findSnapshot(runId, stepKey);
  if (found !== undefined) return found;
  const snapshot = await takeAuditSnapshot(worktree);
  await pool.query(`INSERT INTO kodo.audit_snapshots (run_id, step_key, snapshot, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
    runId,
    stepKey,
    JSON.stringify(snapshot),
    clock.now(),
  ]);
  const stored = await findSnapshot(runId, stepKey);
  if (stored === undefined) throw new Error(`audit snapshot of ${runId} ${stepKey} was not stored`);
  return stored;
}

function severityOf(finding: AuditFinding, worktree: Worktree, rules: AuditRulesOfRun): "blocking" | "warning" {
  if (rules.warn.has(finding.code)) return "warning";
  // refs are shared by every worktree of the repository: only this run's own branch is the agent's
  if (finding.kind === "refs_changed" && finding.path !== `refs/heads/${worktree.branch}`) return "warning";
  return "blocking";
}

/** Policy denials of this run since the step began whose code says the agent tried to do damage. */
async function violationsSince(runId: string, since: Date, rules: AuditRulesOfRun): Promise<{ code: string; message: string }[]> {
  const result = await services().pool.query<{ permission: string | null; patterns: string[]; code: string | null; reason: string | null }>(
    `SELECT permission, patterns, decided_by_policy->>'code' AS code, decided_by_policy->>'reason' AS reason
       FROM kodo.approvals
      WHERE run_id = $1 AND answered_by = $2 AND decision = 'reject' AND created_at >= $3
      ORDER BY created_at`,
    [runId, POLICY_ACTOR, since],
  );
  return result.rows
    .filter((row) => row.code !== null && VIOLATION_CODES.has(row.code) && !rules.warn.has(row.code as ReasonCode))
    .map((row) => ({ code: row.code ?? "DENIED_BY_RULE", message: `the agent tried ${row.permission ?? "a tool"} ${JSON.stringify(row.patterns.join(" "))}: ${row.reason ?? "denied"}` }));
}

/**
 * Runs `work` (an agent turn) between a snapshot and an audit. A failed `work` is rethrown after
 * the audit (the step may be retried from a fresh snapshot), unless the audit found something
 * blocking: then the verdict wins and the step fails with its code. `value` is there whenever
 * `verdict.blocking` is null.
 */
export async function audited<T>(
  o: { runId: string; stepKey: string; worktree: Worktree; rules: AuditRulesOfRun },
  work: () => Promise<T>,
): Promise<{ verdict: AuditVerdict; value?: T }> {
  const { pool, config, clock } = services();
  const before = await snapshotBefore(o.runId, o.stepKey, o.worktree);
  if (before.result !== null) {
    // audited already (the step re-runs after a crash): the turn's answer comes from the ledger
    return { value: await work(), verdict: before.result };
  }
  let value: T | undefined;
  let failure: { error: unknown } | undefined;
  try {
    value = await work();
  } catch (error) {
    failure = { error };
  }
  const report = await auditWorktree(o.worktree, before.snapshot, { writeRoots: o.rules.writeRoots, deletionAllowlist: o.rules.allowDeletions });
  let restore: RestoreResult = { restored: [], removed: [], failed: [] };
  if (report.findings.length > 0) restore = await restoreWorktree(o.worktree, before.snapshot, report);
  const violations = await violationsSince(o.runId, before.created_at, o.rules);
  const at = clock.now();
  const graded = report.findings.map((finding) => ({ ...finding, severity: severityOf(finding, o.worktree, o.rules) }));
  for (const finding of graded) {
    const restored = finding.path !== undefined && (restore.restored.includes(finding.path) || restore.removed.includes(finding.path));
    await pool.query(
      `INSERT INTO kodo.audit_findings (run_id, step_key, code, kind, path, detail, severity, restored, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [o.runId, o.stepKey, finding.code, finding.kind, finding.path ?? null, finding.detail, finding.severity, restored, at],
    );
  }
  const blockingFinding = graded.find((finding) => finding.severity === "blocking");
  const blocking =
    blockingFinding !== undefined
      ? { code: blockingFinding.code, message: `worktree audit after ${o.stepKey}: ${blockingFinding.detail}${restore.failed.length === 0 ? " (restored)" : ""}` }
      : (violations[0] ?? null);
  const verdict: AuditVerdict = { blocking, findings: report.findings.length + violations.length };
  if (report.findings.length > 0 || violations.length > 0) {
    await saveArtifact(pool, config.home.runs, {
      runId: o.runId,
      kind: "audit",
      name: `audit-${o.stepKey.replace(/[^A-Za-z0-9._-]/g, "-")}.json`,
      content: `${JSON.stringify({ stepKey: o.stepKey, findings: graded, violations, restore, changedPaths: report.changedPaths }, null, 2)}\n`,
    });
  }
  if (failure !== undefined && blocking === null) {
    // the turn failed and nothing blocking happened: a retry starts from a fresh snapshot
    await pool.query(`DELETE FROM kodo.audit_snapshots WHERE run_id = $1 AND step_key = $2`, [o.runId, o.stepKey]);
    throw failure.error;
  }
  await pool.query(`UPDATE kodo.audit_snapshots SET result = $3 WHERE run_id = $1 AND step_key = $2`, [o.runId, o.stepKey, JSON.stringify(verdict)]);
  // a failed turn gets here only with a blocking verdict, which is the step's answer
  return failure === undefined ? { verdict, value: value as T } : { verdict };
}
