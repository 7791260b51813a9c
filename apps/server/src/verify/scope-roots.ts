/**
 * The allowed roots of a scope check, resolved like the target itself (kernel-style walk), so
 * a symlinked root counts where it really is. A worktree's roots must be relative, exist, be
 * directories and lie inside the worktree's real path; any root that does not fails the whole
 * check (a misconfiguration is reported, never quietly skipped).
 */
import { isWithin } from "../lib/paths.js";
import { pathTextProblem } from "./path-input.js";
import { joinUnresolved, walkPath } from "./path-walk.js";

export interface ResolvedRoot {
  /** the root as configured ("tests") */
  configured: string;
  /** its real absolute path */
  path: string;
}

/** `base`: the directory a relative target is resolved against (the worktree's real path, or the cwd). */
export type RootsResult = { kind: "ok"; roots: ResolvedRoot[]; base: string } | { kind: "invalid"; reason: string };

type DirectoryResult = { kind: "ok"; path: string } | { kind: "invalid"; reason: string };

/** The real path of an existing directory, or why `absolute` is not one. */
async function realDirectory(absolute: string, label: string): Promise<DirectoryResult> {
  const walk = await walkPath(absolute);
  if (walk.kind === "failed") return { kind: "invalid", reason: `${label} cannot be resolved (${walk.errno} at ${walk.at})` };
  if (walk.entry === "missing") return { kind: "invalid", reason: `${label} does not exist (${walk.path})` };
  if (walk.entry !== "directory") return { kind: "invalid", reason: `${label} is not a directory (${walk.path})` };
  return { kind: "ok", path: walk.path };
}

function textInvalid(text: string, label: string): string | null {
  if (text.trim() === "") return `${label} is empty`;
  const problem = pathTextProblem(text);
  return problem === null ? null : `${label} ${problem}`;
}

/** A worktree's real path and its roots (relative to it), each inside it. */
export async function resolveWorktreeRoots(worktree: string, roots: readonly string[]): Promise<RootsResult> {
  const worktreeProblem = textInvalid(worktree, "the worktree path");
  if (worktreeProblem !== null) return { kind: "invalid", reason: worktreeProblem };
  const tree = await realDirectory(joinUnresolved(process.cwd(), worktree), `the worktree ${JSON.stringify(worktree)}`);
  if (tree.kind === "invalid") return tree;
  if (roots.length === 0) return { kind: "invalid", reason: "no test roots are configured (nothing is allowed)" };
  const resolved: ResolvedRoot[] = [];
  for (const root of roots) {
    const label = `the root ${JSON.stringify(root)}`;
    const problem = textInvalid(root, label);
    if (problem !== null) return { kind: "invalid", reason: problem };
    if (root.startsWith("/")) return { kind: "invalid", reason: `${label} is absolute: roots are relative to the worktree` };
    const directory = await realDirectory(joinUnresolved(tree.path, root), label);
    if (directory.kind === "invalid") return directory;
    if (!isWithin(tree.path, directory.path)) {
      return { kind: "invalid", reason: `${label} resolves to ${directory.path}, outside the worktree ${tree.path}` };
    }
    resolved.push({ configured: root, path: directory.path });
  }
  return { kind: "ok", roots: resolved, base: tree.path };
}

/** One root, absolute or relative to `cwd`. */
export async function resolveSingleRoot(root: string, cwd: string): Promise<RootsResult> {
  const label = `the root ${JSON.stringify(root)}`;
  const problem = textInvalid(root, label);
  if (problem !== null) return { kind: "invalid", reason: problem };
  const directory = await realDirectory(joinUnresolved(cwd, root), label);
  if (directory.kind === "invalid") return directory;
  return { kind: "ok", roots: [{ configured: root, path: directory.path }], base: cwd };
}
