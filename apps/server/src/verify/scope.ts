/**
 * The test-scope check: is this test target inside the allowed test roots? Decided the way the
 * kernel resolves the path (see path-walk.ts), on path components, and failing closed.
 *
 * Order of the decision, first match wins:
 *  1. the target's text: missing/blank → TARGET_REQUIRED; NUL, control characters, backslash,
 *     leading `~` or `-`, an empty `::` part → TARGET_INVALID
 *  2. the roots: any root (or the worktree) that is not an existing directory inside the
 *     worktree → ROOT_INVALID
 *  3. resolving the path: ELOOP or more than 40 links → SYMLINK_LOOP; EACCES → PERMISSION_DENIED;
 *     ENOTDIR (a file used as a directory) → TARGET_NOT_FOUND
 *  4. the resolved path (for a missing one: the path `open(O_CREAT)` would create) lies under
 *     no root → TARGET_OUTSIDE_ROOTS
 *  5. it does not exist (also a dangling symlink whose target would be inside) → TARGET_NOT_FOUND;
 *     it is neither a regular file nor a directory → TARGET_INVALID
 *  6. a regular file with more than one hard link → HARDLINK_OUTSIDE (the other names cannot be
 *     traced, so one of them may be outside); a real path containing `::` (a runner would cut
 *     it there) → TARGET_INVALID
 *  7. otherwise ALLOWED.
 *
 * Run `resolved`, never the raw target: it names the file that was checked, with no symlink
 * or `..` left for the runner to read differently. This check explains and screens test
 * targets; it is racy against a process changing the tree, so the guarantee is the sandbox's.
 */
import { isWithin } from "../lib/paths.js";
import { parseTarget, type ParsedTarget } from "./path-input.js";
import { joinUnresolved, walkPath, type WalkResult } from "./path-walk.js";
import { resolveSingleRoot, resolveWorktreeRoots, type ResolvedRoot, type RootsResult } from "./scope-roots.js";

export type ScopeCode =
  | "ALLOWED"
  | "TARGET_REQUIRED"
  | "TARGET_OUTSIDE_ROOTS"
  | "TARGET_NOT_FOUND"
  | "TARGET_INVALID"
  | "SYMLINK_LOOP"
  | "HARDLINK_OUTSIDE"
  | "ROOT_INVALID"
  | "PERMISSION_DENIED";

export interface ScopeDecision {
  allowed: boolean;
  code: ScopeCode;
  reason: string;
  /** the real absolute path (plus the `::node` suffix, if any) when resolution got that far */
  resolved: string | null;
  /** the root (as configured) that contains `resolved` */
  matchedRoot: string | null;
}

function denied(code: Exclude<ScopeCode, "ALLOWED">, reason: string, resolved: string | null = null, matchedRoot: string | null = null): ScopeDecision {
  return { allowed: false, code, reason, resolved, matchedRoot };
}

function walkFailure(walk: Extract<WalkResult, { kind: "failed" }>, shown: string): ScopeDecision {
  const where = `${shown}: ${walk.errno} at ${walk.at}`;
  switch (walk.errno) {
    case "ELOOP":
      return denied("SYMLINK_LOOP", `${where} (a symlink loop, or more than 40 links)`);
    case "EACCES":
    case "EPERM":
      return denied("PERMISSION_DENIED", `${where} (a directory on the way cannot be searched)`);
    case "ENOTDIR":
      return denied("TARGET_NOT_FOUND", `${where} (a component used as a directory is not one)`);
    case "ENOENT":
      return denied("TARGET_NOT_FOUND", `${where} (a symlink with an empty target)`);
    default:
      return denied("TARGET_INVALID", `${where} (the path cannot be resolved)`);
  }
}

type ValidRoots = Extract<RootsResult, { kind: "ok" }>;
type ParsedPath = Extract<ParsedTarget, { kind: "ok" }>;

/** Steps 3–7 of the module comment, for a well-formed target against valid roots. */
async function decide(roots: ValidRoots, target: ParsedPath): Promise<ScopeDecision> {
  const shown = JSON.stringify(target.path);
  const walk = await walkPath(joinUnresolved(roots.base, target.path));
  if (walk.kind === "failed") return walkFailure(walk, shown);

  const resolved = `${walk.path}${target.node ?? ""}`;
  const match: ResolvedRoot | undefined = roots.roots.find((root) => isWithin(root.path, walk.path));
  if (match === undefined) {
    const list = roots.roots.map((root) => root.path).join(", ");
    return denied("TARGET_OUTSIDE_ROOTS", `${shown} resolves to ${walk.path}, outside the allowed roots (${list})`, resolved);
  }
  const inside = `${shown} resolves to ${walk.path}, inside the root ${JSON.stringify(match.configured)}`;
  if (walk.entry === "missing") return denied("TARGET_NOT_FOUND", `${inside}, but it does not exist`, resolved, match.configured);
  if (walk.entry === "other") return denied("TARGET_INVALID", `${inside}, but it is neither a regular file nor a directory`, resolved, match.configured);
  if (walk.entry === "file" && walk.nlink > 1) {
    return denied(
      "HARDLINK_OUTSIDE",
      `${inside}, but it has ${walk.nlink} hard links: another name for the same file may lie outside the roots`,
      resolved,
      match.configured,
    );
  }
  if (walk.path.includes("::")) {
    return denied("TARGET_INVALID", `${inside}, but the path contains \`::\`, which a runner would read as a node id`, resolved, match.configured);
  }
  return { allowed: true, code: "ALLOWED", reason: inside, resolved, matchedRoot: match.configured };
}

/** Steps 1–2 (no I/O for a malformed target), then the rest. */
async function check(target: string | undefined, resolveRoots: () => Promise<RootsResult>): Promise<ScopeDecision> {
  const parsed = parseTarget(target);
  if (parsed.kind === "required") return denied("TARGET_REQUIRED", parsed.reason);
  if (parsed.kind === "invalid") return denied("TARGET_INVALID", parsed.reason);
  const roots = await resolveRoots();
  if (roots.kind === "invalid") return denied("ROOT_INVALID", roots.reason);
  return decide(roots, parsed);
}

/**
 * Whether `target` (relative to `worktree`, or absolute; a file or a directory; optionally with
 * a `::node` suffix) lies inside one of `roots` (directories relative to `worktree`).
 */
export function checkTestTarget(o: { worktree: string; roots: readonly string[]; target: string | undefined }): Promise<ScopeDecision> {
  return check(o.target, () => resolveWorktreeRoots(o.worktree, o.roots));
}

/**
 * The general form: whether `path` lies inside the directory `root`. Both may be absolute or
 * relative to `cwd` (default: the process's working directory). Same codes, same rules.
 */
export function checkPathWithinRoot(o: { root: string; path: string; cwd?: string }): Promise<ScopeDecision> {
  const cwd = joinUnresolved(process.cwd(), o.cwd ?? ".");
  return check(o.path, () => resolveSingleRoot(o.root, cwd));
}
