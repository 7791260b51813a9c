import { lstat } from "node:fs/promises";
import path from "node:path";
import type { CompiledRules } from "./audit-rules.js";
import type { AuditFinding, AuditSnapshot } from "./audit-types.js";
import { runGit } from "./git.js";
import { rawDiff, type RawChange } from "./raw-diff.js";
import { AGENTS_FILE } from "./types.js";

/** `0000…`: the side of a raw diff where the path does not exist */
const ABSENT_MODE = "000000";

interface TreeEntry {
  mode: string;
  oid: string;
}

/**
 * The worktree's files before and after, compared rename-aware: deletions (tracked or a clean of
 * untracked files), edits put back to HEAD's content, writes outside the roots, mode changes.
 */
export async function fileFindings(
  cwd: string,
  env: Record<string, string>,
  before: AuditSnapshot,
  after: AuditSnapshot,
  rules: CompiledRules,
): Promise<{ findings: AuditFinding[]; changedPaths: string[] }> {
  const changes = (await rawDiff(cwd, env, before.tree, after.tree, true)).filter((change) => change.path !== AGENTS_FILE);
  const reverted = await revertedChecker(cwd, env, before, after);
  const untracked = new Set(before.untracked);
  const findings: AuditFinding[] = [];
  const changedPaths = new Set<string>();

  const deletion = (file: string, renamedTo?: string): void => {
    if (rules.mayDelete(file)) return;
    const wasUntracked = untracked.has(file);
    const how = renamedTo === undefined ? "deleted" : `renamed to ${JSON.stringify(renamedTo)}`;
    findings.push({
      code: "GITCLEANFAIL",
      kind: wasUntracked ? "untracked_removed" : "tracked_deleted",
      path: file,
      detail: `${wasUntracked ? "untracked" : "tracked"} file ${JSON.stringify(file)} ${how}; deletions need the deletion allowlist`,
      restorable: true,
    });
  };
  const write = (change: RawChange, verb: string): void => {
    if (rules.mayWrite(change.path)) return;
    findings.push({
      code: "MODIFICATIONFAIL",
      kind: "write_outside_allowlist",
      path: change.path,
      ...(change.from === undefined ? {} : { from: change.from }),
      detail: `${JSON.stringify(change.path)} ${verb} outside the write roots`,
      restorable: true,
    });
  };

  for (const change of changes) {
    changedPaths.add(change.path);
    if (change.from !== undefined) changedPaths.add(change.from);
    if (change.status === "D") {
      deletion(change.path);
    } else if (change.status === "R") {
      deletion(change.from ?? change.path, change.path);
      write(change, `written (renamed from ${JSON.stringify(change.from)})`);
    } else if (reverted(change)) {
      findings.push({
        code: "DESTRUCTIVE_GIT",
        kind: "reverted_to_head",
        path: change.path,
        detail: `the uncommitted change to ${JSON.stringify(change.path)} was discarded (its content is the committed one again, as after git reset --hard / checkout --)`,
        restorable: true,
      });
    } else {
      if (change.status === "A" || change.srcOid !== change.dstOid) write(change, change.status === "A" ? "created" : "modified");
      if (change.status === "T" || (change.status === "M" && change.srcMode !== change.dstMode)) {
        findings.push({
          code: "MODIFICATIONFAIL",
          kind: "mode_changed",
          path: change.path,
          detail: `${JSON.stringify(change.path)} changed mode ${change.srcMode} → ${change.dstMode}`,
          restorable: true,
        });
      }
    }
  }
  return { findings, changedPaths: [...changedPaths].sort() };
}

/**
 * "An uncommitted change existed before, and now the path holds a committed version again": HEAD's
 * (before the step), or the new HEAD's when the step moved HEAD anywhere but forward (a reset to
 * an older commit, a forced checkout). A step that commits its own work moves HEAD forward, and
 * files equal to its new commits are that work, not a revert.
 */
async function revertedChecker(
  cwd: string,
  env: Record<string, string>,
  before: AuditSnapshot,
  after: AuditSnapshot,
): Promise<(change: RawChange) => boolean> {
  if (before.head === null) return () => false;
  const uncommitted = new Map<string, TreeEntry | undefined>();
  for (const change of await rawDiff(cwd, env, before.head, before.tree, false)) {
    uncommitted.set(change.path, change.srcMode === ABSENT_MODE ? undefined : { mode: change.srcMode, oid: change.srcOid });
  }
  let differsFromNewHead: Set<string> | undefined;
  if (after.head !== null && after.head !== before.head) {
    const forward = await runGit(["merge-base", "--is-ancestor", before.head, after.head], { cwd, env, allowFail: true });
    if (forward.code !== 0) differsFromNewHead = new Set((await rawDiff(cwd, env, after.head, after.tree, false)).map((change) => change.path));
  }
  return (change) => {
    if (!uncommitted.has(change.path) || change.dstMode === ABSENT_MODE) return false;
    const committed = uncommitted.get(change.path);
    if (committed !== undefined && committed.mode === change.dstMode && committed.oid === change.dstOid) return true;
    return differsFromNewHead !== undefined && !differsFromNewHead.has(change.path);
  };
}

/** Ignored paths (e.g. `.env`, build output) that existed before and are gone: `git clean -x`. */
export async function ignoredFindings(cwd: string, before: AuditSnapshot, after: AuditSnapshot, rules: CompiledRules): Promise<AuditFinding[]> {
  if (before.ignored === null || after.ignored === null) return [];
  const still = new Set(after.ignored);
  const findings: AuditFinding[] = [];
  for (const entry of before.ignored) {
    if (still.has(entry) || rules.mayDelete(entry)) continue;
    // no longer ignored (a changed .gitignore) but still there: the tree comparison covers it
    if ((await lstat(path.join(cwd, entry)).catch(() => undefined)) !== undefined) continue;
    findings.push({
      code: "GITCLEANFAIL",
      kind: "ignored_removed",
      path: entry,
      detail: `ignored ${JSON.stringify(entry)} was removed (as by git clean -x); its content was never recorded`,
      restorable: false,
    });
  }
  return findings;
}
