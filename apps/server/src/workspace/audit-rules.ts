import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { matchesGlob } from "../policy/glob.js";
import type { AuditRules } from "./audit-types.js";

/** a stand-in root: worktree-relative paths are compared as absolute ones, by components */
const TREE_ROOT = "/tree";

/** The rules in a form that answers "may the agent write / delete this path?" */
export interface CompiledRules {
  mayWrite(file: string): boolean;
  mayDelete(file: string): boolean;
}

export function compileRules(rules: AuditRules): CompiledRules {
  const roots = rules.writeRoots.map(normalizeRoot);
  const patterns = [...rules.deletionAllowlist];
  return {
    mayWrite: (file) => roots.some((root) => isWithin(path.posix.join(TREE_ROOT, root), path.posix.join(TREE_ROOT, file))),
    mayDelete: (file) => patterns.some((pattern) => matchesGlob(file, pattern) || matchesGlob(file, pattern.replace(/\/\*\*$/, ""))),
  };
}

/** `.`, `src`, `src/` and `./src` are fine; absolute roots and roots that climb out are not. */
function normalizeRoot(root: string): string {
  const normalized = path.posix.normalize(root === "" ? "." : root).replace(/\/+$/, "");
  if (root.includes("\0") || path.posix.isAbsolute(normalized) || normalized === ".." || normalized.startsWith("../")) {
    throw new KodoError("VALIDATION_FAILED", `write root ${JSON.stringify(root)} must be a path inside the worktree`, { details: { root } });
  }
  return normalized === "" ? "." : normalized;
}

/** Is `file` (worktree-relative) inside one of `directories`, by components? */
export function insideAny(file: string, directories: readonly string[]): boolean {
  return directories.some((directory) => isWithin(path.posix.join(TREE_ROOT, directory), path.posix.join(TREE_ROOT, file)));
}
