import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { describeError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { auditGitEnv, branchesCheckedOutElsewhere, type GitLocation } from "./audit-git.js";
import { fileFindings, ignoredFindings } from "./audit-file-findings.js";
import { compileRules } from "./audit-rules.js";
import { readAuditState, readGitFiles } from "./audit-snapshot.js";
import { gitFileFindings, gitStateFindings, headFileFinding } from "./audit-state-findings.js";
import { AuditSnapshotSchema, type AuditFinding, type AuditReport, type AuditRules, type AuditSnapshot } from "./audit-types.js";
import type { Worktree } from "./types.js";

export { takeAuditSnapshot } from "./audit-snapshot.js";
export { restoreWorktree } from "./audit-restore.js";
export { assertKodoWorktree, type KodoWorktreeOptions } from "./worktree-guard.js";
export {
  AUDIT_SNAPSHOT_FORMAT,
  AuditSnapshotSchema,
  type AuditFinding,
  type AuditReport,
  type AuditRules,
  type AuditSnapshot,
  type FindingKind,
  type RestoreResult,
} from "./audit-types.js";

/**
 * What an agent step did to the worktree and its git state, against the snapshot taken before it.
 * Findings are values; this throws only for invalid rules. Whatever cannot be read becomes an
 * `audit_failed` finding (fail closed): a step whose after-state is unknown is not trusted.
 * Git runs only at the worktree's top level, with the gitdir recorded before the step (a
 * rewritten `.git` is not followed), hooks, fsmonitor and filter drivers off.
 */
export async function auditWorktree(worktree: Worktree, before: AuditSnapshot, rules: AuditRules): Promise<AuditReport> {
  const compiled = compileRules(rules);
  const findings: AuditFinding[] = [];
  const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      findings.push({ code: "AUDIT_FAILED", kind: "audit_failed", detail: `could not ${what}: ${describeError(error)}`, restorable: false });
      return undefined;
    }
  };

  const parsed = AuditSnapshotSchema.safeParse(before);
  if (!parsed.success || parsed.data.worktreePath !== worktree.path) {
    const why = parsed.success ? `it was taken of ${parsed.data.worktreePath}` : parsed.error.message;
    findings.push({ code: "AUDIT_FAILED", kind: "audit_failed", detail: `the before-snapshot cannot be used for ${worktree.path}: ${why}`, restorable: false });
    return { findings, after: null, changedPaths: [] };
  }
  const snapshot = parsed.data;
  const location: GitLocation = { worktreePath: worktree.path, gitDir: snapshot.gitDir, commonDir: snapshot.commonDir };

  const files = await attempt("read the gitdir files, hooks and .git pointer", () => readGitFiles(location, false));
  if (files === undefined) return { findings, after: null, changedPaths: [] };
  findings.push(...gitFileFindings(snapshot, files));

  const after = await attempt("read the worktree after the step", () => readAuditState(location, files, snapshot.tree));
  if (after === undefined) {
    findings.push(...headFileFinding(snapshot, files));
    return { findings, after: null, changedPaths: [] };
  }

  const elsewhere = await attempt("list the repository's worktrees", () => branchesCheckedOutElsewhere(worktree));
  findings.push(...gitStateFindings(snapshot, after, elsewhere ?? null));
  const compared = await attempt("compare the worktree's files", async () => {
    const env = await auditGitEnv(location);
    return await fileFindings(worktree.path, env, snapshot, after, compiled);
  });
  findings.push(...(compared?.findings ?? []));
  findings.push(...((await attempt("check ignored files", () => ignoredFindings(worktree.path, snapshot, after, compiled))) ?? []));
  const changedPaths = compared?.changedPaths ?? [];
  findings.push(...((await attempt("check symlinks", () => symlinkFindings(worktree.path, changedPaths))) ?? []));
  return { findings, after, changedPaths };
}

/**
 * A changed path that is now a symlink pointing outside the worktree: the sandbox stopped writes
 * through it during the step, but committed it would be a way out for whatever reads or writes
 * the branch later. It is removed (or put back) like a write outside the allowlist.
 */
async function symlinkFindings(worktreePath: string, changedPaths: readonly string[]): Promise<AuditFinding[]> {
  const root = await realpath(worktreePath);
  const findings: AuditFinding[] = [];
  for (const changed of changedPaths) {
    const full = path.join(root, ...changed.split("/"));
    const stat = await lstat(full).catch(() => undefined);
    if (stat === undefined || !stat.isSymbolicLink()) continue;
    const target = await readlink(full);
    const lexical = path.resolve(path.dirname(full), target);
    const real = await realpath(full).catch(() => lexical);
    if (isWithin(root, lexical) && isWithin(root, real)) continue;
    findings.push({ code: "MODIFICATIONFAIL", kind: "symlink_outside", path: changed, detail: `${changed} is a symlink to ${target}, outside the worktree`, restorable: true });
  }
  return findings;
}
