import { mkdir, realpath } from "node:fs/promises";
import path from "node:path";
import { describeError, KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { auditGitEnv, branchesCheckedOutElsewhere, gitFilePath, hooksDirectory, readHead, type GitLocation } from "./audit-git.js";
import { restoreFiles } from "./audit-restore-files.js";
import { AuditSnapshotSchema, GIT_FILE_NAMES, type AuditFinding, type AuditReport, type AuditSnapshot, type FindingKind, type RecordedFile, type RestoreResult } from "./audit-types.js";
import { runGit } from "./git.js";
import { recordFile, restoreRecordedFile, sameFile } from "./recorded-file.js";
import type { Worktree } from "./types.js";

const REFLOG_MESSAGE = "kodo: restore after audit";
const FILE_KINDS: ReadonlySet<FindingKind> = new Set([
  "tracked_deleted",
  "untracked_removed",
  "reverted_to_head",
  "write_outside_allowlist",
  "symlink_outside",
  "mode_changed",
]);

/**
 * Brings back what the report's restorable findings lost or changed, from the before-snapshot:
 * first the gitdir files, hooks and `.git` pointer (so git reads the recorded config again), then
 * refs, branch and HEAD (compare-and-swap against what the audit saw), then the worktree's files
 * (see restoreFiles). Never touches anything that changed again since the audit, never deletes a
 * directory of the agent's, never runs git inside a nested repository. Per-item failures are
 * returned, not thrown.
 */
export async function restoreWorktree(worktree: Worktree, before: AuditSnapshot, report: AuditReport): Promise<RestoreResult> {
  const snapshot = usableSnapshot(worktree, before);
  const location: GitLocation = { worktreePath: worktree.path, gitDir: snapshot.gitDir, commonDir: snapshot.commonDir };
  const result: RestoreResult = { restored: [], removed: [], failed: [] };
  const attempt = async (item: string, work: () => Promise<boolean>): Promise<void> => {
    try {
      if (await work()) result.restored.push(item);
    } catch (error) {
      result.failed.push({ path: item, error: describeError(error) });
    }
  };
  const wanted = (kinds: FindingKind[]): AuditFinding[] => report.findings.filter((finding) => finding.restorable && kinds.includes(finding.kind));

  // without an after-state git could not read the repository: HEAD goes back as a file first
  const headAsFile = report.after === null ? wanted(["head_changed"]) : [];
  for (const finding of [...wanted(["config_changed", "git_pointer_changed", "hooks_changed"]), ...headAsFile]) {
    const item = finding.path ?? "";
    await attempt(item, async () => {
      const target = gitStateFile(location, item);
      await assertRealParent(target, item === ".git" ? await realpath(worktree.path) : path.dirname(target), location.commonDir);
      const { want, seen } = recordedPair(snapshot, report.after, item);
      if (seen !== undefined && !sameFile(await recordFile(target), seen)) throw new Error(`${item} changed again since the audit`);
      await restoreRecordedFile(target, want, item.startsWith("hooks/"));
      return true;
    });
  }

  // after the gitdir files: a config the agent broke is the recorded one again
  const gitEnv = await auditGitEnv(location).then(
    (env) => ({ env, error: undefined }),
    (error: unknown) => ({ env: undefined, error }),
  );
  const requireEnv = (): Record<string, string> => {
    if (gitEnv.env === undefined) throw new Error(`git cannot read the repository: ${describeError(gitEnv.error)}`);
    return gitEnv.env;
  };
  const git = async (args: string[]): Promise<void> => {
    await runGit(args, { cwd: worktree.path, env: requireEnv() });
  };
  const refs = wanted(["refs_changed"]);
  const elsewhere = refs.length === 0 ? new Set<string>() : await branchesCheckedOutElsewhere(worktree).catch(() => undefined);
  for (const finding of refs) {
    const name = finding.path ?? "";
    await attempt(name, async () => {
      const was = snapshot.refs.find((ref) => ref.name === name)?.oid;
      if (was === undefined || report.after === null) throw new Error(`no recorded value for ${name}`);
      const seen = report.after.refs.find((ref) => ref.name === name)?.oid;
      if (seen !== undefined && elsewhere?.has(name) !== false) throw new Error(`${name} is (or may be) checked out in another worktree; not moved`);
      // the old value makes it a compare-and-swap: "" = must not exist
      await git(["update-ref", "-m", REFLOG_MESSAGE, name, was, seen ?? ""]);
      return true;
    });
  }
  if (report.after !== null && wanted(["branch_changed", "head_changed"]).length > 0) {
    await attempt("HEAD", async () => {
      if (snapshot.symbolicHead !== null) await git(["symbolic-ref", "-m", REFLOG_MESSAGE, "HEAD", snapshot.symbolicHead]);
      else if (snapshot.head !== null) await git(["update-ref", "--no-deref", "-m", REFLOG_MESSAGE, "HEAD", snapshot.head]);
      const now = await readHead(worktree.path, requireEnv());
      if (now.head !== snapshot.head || now.symbolicHead !== snapshot.symbolicHead) {
        throw new Error(`HEAD is ${now.symbolicHead ?? "detached"} at ${now.head ?? "no commit"}, not ${snapshot.symbolicHead ?? "detached"} at ${snapshot.head ?? "no commit"}`);
      }
      return true;
    });
  }

  // undoing a rename out of the roots brings its source back too, even where it may be deleted
  const fileFindings = wanted([...FILE_KINDS]);
  const files = [...new Set(fileFindings.flatMap((finding) => [finding.path, finding.from].filter((file) => file !== undefined)))].sort();
  const modeOnly = new Set(files.filter((file) => fileFindings.every((finding) => finding.kind === "mode_changed" || (finding.path !== file && finding.from !== file))));
  if (files.length > 0) {
    const env = gitEnv.env;
    if (env === undefined || report.after === null) {
      const why = env === undefined ? `git cannot read the repository: ${describeError(gitEnv.error)}` : "the audit has no after-state";
      for (const file of files) result.failed.push({ path: file, error: why });
    } else {
      const nested = [...new Set([...snapshot.nestedRepos, ...report.after.nestedRepos])];
      const restored = await restoreFiles(location, env, snapshot.tree, files, nested, modeOnly);
      result.restored.push(...restored.restored);
      result.removed.push(...restored.removed);
      result.failed.push(...restored.failed);
    }
  }
  return result;
}

function usableSnapshot(worktree: Worktree, before: AuditSnapshot): AuditSnapshot {
  const parsed = AuditSnapshotSchema.safeParse(before);
  if (!parsed.success) throw new KodoError("VALIDATION_FAILED", `invalid audit snapshot: ${parsed.error.message}`);
  const snapshot = parsed.data;
  const worktreesDir = path.join(snapshot.commonDir, "worktrees");
  if (snapshot.worktreePath !== worktree.path || !isWithin(worktreesDir, snapshot.gitDir) || snapshot.gitDir === worktreesDir) {
    throw new KodoError("VALIDATION_FAILED", `the audit snapshot does not belong to the worktree ${worktree.path}`, {
      details: { path: worktree.path, snapshotPath: snapshot.worktreePath, gitDir: snapshot.gitDir },
    });
  }
  return snapshot;
}

/** The file a git-state finding names: `.git`, a watched gitdir file, or `hooks/<name>` (one level). */
function gitStateFile(location: GitLocation, item: string): string {
  if (item === ".git") return path.join(location.worktreePath, ".git");
  if ((GIT_FILE_NAMES as readonly string[]).includes(item)) return gitFilePath(location, item);
  const hook = item.startsWith("hooks/") ? item.slice("hooks/".length) : "";
  if (hook === "" || hook === "." || hook === ".." || hook.includes("/") || hook.includes("\0")) throw new Error(`unknown git state ${JSON.stringify(item)}`);
  return path.join(hooksDirectory(location), hook);
}

/**
 * Nothing is written through a symlinked directory: the parent must be where it was recorded
 * (a missing `hooks/` or `info/` directly in the common directory is made again).
 */
async function assertRealParent(target: string, expected: string, commonDir: string): Promise<void> {
  const parent = path.dirname(target);
  let real = await realpath(parent).catch(() => undefined);
  if (real === undefined && path.dirname(parent) === commonDir) {
    await mkdir(parent);
    real = await realpath(parent);
  }
  if (real !== expected) throw new Error(`${parent} is not the directory recorded (a symlink or missing); nothing written there`);
}

/** The recorded before-state of an item, and what the audit saw after (undefined: unknown). */
function recordedPair(before: AuditSnapshot, after: AuditSnapshot | null, item: string): { want: RecordedFile; seen: RecordedFile | undefined } {
  const absent: RecordedFile = { kind: "absent" };
  const pick = (snapshot: AuditSnapshot): RecordedFile => {
    if (item === ".git") return snapshot.gitPointer;
    if (item.startsWith("hooks/")) return snapshot.hooks.find((hook) => `hooks/${hook.name}` === item)?.file ?? absent;
    return snapshot.gitFiles.find((file) => file.name === item)?.file ?? absent;
  };
  return { want: pick(before), seen: after === null ? undefined : pick(after) };
}
