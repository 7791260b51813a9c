import type { GitFilesState } from "./audit-snapshot.js";
import type { AuditFinding, AuditSnapshot, GitFileName } from "./audit-types.js";
import { canRestore, describeFile, sameFile } from "./recorded-file.js";

/** gitdir files whose change means git itself was pointed elsewhere */
const POINTER_FILES: ReadonlySet<GitFileName> = new Set(["commondir", "gitdir"]);

/** The watched gitdir files, the hooks and the `.git` pointer, compared on disk (no git needed). */
export function gitFileFindings(before: AuditSnapshot, now: GitFilesState): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const { name, file } of before.gitFiles) {
    if (name === "HEAD") continue;
    const current = now.gitFiles.find((entry) => entry.name === name)?.file ?? { kind: "absent" };
    if (sameFile(file, current)) continue;
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: POINTER_FILES.has(name) ? "git_pointer_changed" : "config_changed",
      path: name,
      detail: `${name} of the repository changed: ${describeFile(file)} → ${describeFile(current)}`,
      restorable: canRestore(file),
    });
  }
  const names = new Set([...before.hooks, ...now.hooks].map((hook) => hook.name));
  for (const name of [...names].sort()) {
    const was = before.hooks.find((hook) => hook.name === name)?.file ?? { kind: "absent" };
    const is = now.hooks.find((hook) => hook.name === name)?.file ?? { kind: "absent" };
    if (sameFile(was, is)) continue;
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: "hooks_changed",
      path: `hooks/${name}`,
      detail: `hook ${JSON.stringify(name)} changed: ${describeFile(was)} → ${describeFile(is)}`,
      // `.`: the hooks directory itself was replaced
      restorable: name !== "." && canRestore(was),
    });
  }
  if (!sameFile(before.gitPointer, now.gitPointer)) {
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: "git_pointer_changed",
      path: ".git",
      detail: `the worktree's .git changed: ${describeFile(before.gitPointer)} → ${describeFile(now.gitPointer)}`,
      // a .git directory in its place is the agent's repository: kodo does not delete it
      restorable: canRestore(before.gitPointer) && now.gitPointer.kind !== "directory",
    });
  }
  return findings;
}

/** When git cannot read the after-state: HEAD compared as a file (a broken HEAD stops git). */
export function headFileFinding(before: AuditSnapshot, now: GitFilesState): AuditFinding[] {
  const was = before.gitFiles.find((entry) => entry.name === "HEAD")?.file;
  const is = now.gitFiles.find((entry) => entry.name === "HEAD")?.file;
  if (was === undefined || is === undefined || sameFile(was, is)) return [];
  return [
    {
      code: "GIT_STATE_CHANGED",
      kind: "head_changed",
      path: "HEAD",
      detail: `the worktree's HEAD file changed: ${describeFile(was)} → ${describeFile(is)}`,
      restorable: canRestore(was),
    },
  ];
}

/**
 * HEAD, the branch HEAD names, every ref, and nested repositories. Refs are shared by all
 * worktrees: a ref that moved may be another run's or the user's doing, so only a deleted ref
 * or one that moved (and is not checked out in another worktree) counts as restorable; a ref
 * that appeared is reported, never deleted.
 */
export function gitStateFindings(
  before: AuditSnapshot,
  after: AuditSnapshot,
  /** null when the worktree list could not be read: no moved ref is then restorable */
  checkedOutElsewhere: ReadonlySet<string> | null,
): AuditFinding[] {
  const findings: AuditFinding[] = [];
  if (before.symbolicHead !== after.symbolicHead) {
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: "branch_changed",
      path: "HEAD",
      detail: `HEAD names ${after.symbolicHead ?? "no branch (detached or unreadable)"}, was ${before.symbolicHead ?? "detached"}`,
      restorable: before.symbolicHead !== null || before.head !== null,
    });
  }
  if (before.head !== after.head) {
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: "head_changed",
      path: "HEAD",
      detail: `HEAD is at ${after.head ?? "no commit (unreadable)"}, was ${before.head ?? "no commit"}`,
      restorable: before.head !== null,
    });
  }
  const afterRefs = new Map(after.refs.map((ref) => [ref.name, ref.oid]));
  const beforeRefs = new Map(before.refs.map((ref) => [ref.name, ref.oid]));
  for (const [name, oid] of beforeRefs) {
    const now = afterRefs.get(name);
    if (now === oid) continue;
    findings.push({
      code: "GIT_STATE_CHANGED",
      kind: "refs_changed",
      path: name,
      detail: now === undefined ? `${name} was deleted (was ${oid})` : `${name} moved ${oid} → ${now}`,
      restorable: now === undefined || (checkedOutElsewhere !== null && !checkedOutElsewhere.has(name)),
    });
  }
  for (const [name, oid] of afterRefs) {
    if (beforeRefs.has(name)) continue;
    findings.push({ code: "GIT_STATE_CHANGED", kind: "refs_changed", path: name, detail: `${name} was created at ${oid}`, restorable: false });
  }
  const known = new Set(before.nestedRepos);
  for (const repo of after.nestedRepos) {
    if (known.has(repo)) continue;
    findings.push({
      code: "NESTED_REPO",
      kind: "nested_repo_created",
      path: repo,
      detail: `${JSON.stringify(repo)} is a git repository of its own: left out of the audit and of commits, never entered by kodo`,
      restorable: false,
    });
  }
  return findings;
}
