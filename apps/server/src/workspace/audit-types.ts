import { z } from "zod";
import type { ReasonCode } from "../policy/codes.js";

/**
 * The values of the worktree audit. A snapshot is stored as jsonb and read back after a crash, so
 * it is plain JSON (no Map, no Buffer, no class) and is validated with this schema when read back.
 */
export const AUDIT_SNAPSHOT_FORMAT = "kodo-audit-snapshot/v1";

const objectId = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, "a full git object id");
const refName = z.string().regex(/^refs\/[^\0\s]+$/, "a full ref name");

/** A file as found on disk (lstat, never followed); `content` is base64, null above the size cap. */
export const RecordedFileSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("absent") }),
  z.object({
    kind: z.literal("file"),
    mode: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    content: z.string().nullable(),
  }),
  z.object({ kind: z.literal("symlink"), target: z.string() }),
  z.object({ kind: z.literal("directory") }),
  z.object({ kind: z.literal("other") }),
]);
export type RecordedFile = z.infer<typeof RecordedFileSchema>;

/**
 * Files of the repository's git directories the audit watches. `config`, `info/*` live in the
 * common directory (shared with the user's checkout); the others in the worktree's own gitdir.
 * `HEAD` is compared through git (head_changed, branch_changed); its file is the fallback when
 * git cannot read the repository any more.
 */
export const GIT_FILE_NAMES = ["config", "config.worktree", "info/exclude", "info/attributes", "commondir", "gitdir", "HEAD"] as const;
export type GitFileName = (typeof GIT_FILE_NAMES)[number];

export const AuditSnapshotSchema = z.object({
  format: z.literal(AUDIT_SNAPSHOT_FORMAT),
  /** the worktree's top level, as given by the caller */
  worktreePath: z.string(),
  /** the worktree's own gitdir (`<common>/worktrees/<name>`) and the repository's common dir */
  gitDir: z.string(),
  commonDir: z.string(),
  /** the worktree's files as a git tree: tracked + untracked, not ignored, not kodo's AGENTS.md */
  tree: objectId,
  head: objectId.nullable(),
  /** `refs/heads/…` HEAD points at; null when detached or unreadable */
  symbolicHead: refName.nullable(),
  /** every ref (shared by all worktrees of the repository), sorted by name */
  refs: z.array(z.object({ name: refName, oid: objectId })),
  /** untracked, not ignored paths (relative, `/`-separated, not C-quoted) */
  untracked: z.array(z.string()),
  /** directories holding a `.git` of their own: never part of `tree`, never entered by git */
  nestedRepos: z.array(z.string()),
  /** ignored paths (whole ignored directories collapsed), null when too many to record */
  ignored: z.array(z.string()).nullable(),
  gitFiles: z.array(z.object({ name: z.enum(GIT_FILE_NAMES), file: RecordedFileSchema })),
  /** `<common>/hooks`, one level, sorted by name */
  hooks: z.array(z.object({ name: z.string(), file: RecordedFileSchema })),
  /** the worktree's `.git` (a file `gitdir: …` for a linked worktree) */
  gitPointer: RecordedFileSchema,
});
export type AuditSnapshot = z.infer<typeof AuditSnapshotSchema>;

export interface AuditRules {
  /** directories the agent may write, relative to the worktree; `["."]` is the whole worktree */
  writeRoots: string[];
  /** globs (relative to the worktree) of paths the agent may delete; empty: no deletion allowed */
  deletionAllowlist: string[];
}

export type FindingKind =
  | "tracked_deleted"
  | "untracked_removed"
  | "ignored_removed"
  | "reverted_to_head"
  | "write_outside_allowlist"
  /** a symlink the step created or changed that points outside the worktree (a way out for later writes) */
  | "symlink_outside"
  | "mode_changed"
  | "head_changed"
  | "branch_changed"
  | "refs_changed"
  | "config_changed"
  | "hooks_changed"
  | "git_pointer_changed"
  | "nested_repo_created"
  | "audit_failed";

export interface AuditFinding {
  code: ReasonCode;
  kind: FindingKind;
  /**
   * A worktree path (relative, `/`-separated) for file findings; a ref name for refs; `HEAD`;
   * a gitdir file name (`config`, `info/exclude`, `hooks/<name>`, `.git`) for the git files.
   */
  path?: string;
  /** the source path of a rename whose destination is `path` */
  from?: string;
  detail: string;
  /** whether `restoreWorktree` can bring the before-state back */
  restorable: boolean;
}

export interface AuditReport {
  findings: AuditFinding[];
  /**
   * The state after the step; null when it could not be read (see the audit_failed findings).
   * Its gitdir files carry hashes only: take a new snapshot before the next step.
   */
  after: AuditSnapshot | null;
  /** every worktree path that differs between the two trees (both ends of a rename) */
  changedPaths: string[];
}

export interface RestoreResult {
  /** worktree paths written back, and git state put back (`HEAD`, ref names, gitdir files) */
  restored: string[];
  /** worktree paths removed (they did not exist before) */
  removed: string[];
  failed: { path: string; error: string }[];
}
