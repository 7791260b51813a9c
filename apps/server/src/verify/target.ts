/**
 * The target as the runner gets it: relative to the worktree, never an option, never outside.
 * (The task-level scope check against the repository's test roots is scope.ts, done by the
 * caller before runTests; this is the executor's own last line: whatever it is handed, it does
 * not run something outside the worktree or smuggle a flag into the runner's argv.)
 *
 * Accepted: a path relative to the worktree or absolute inside it (scope.ts's `resolved`), "."
 * for everything, a pytest node id (`path::Class::test`), a go pattern (`./pkg/...`, `...`).
 */
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import type { RunnerName } from "./types.js";

function invalid(message: string, target: string): KodoError {
  return new KodoError("TEST_TARGET_INVALID", message, { details: { target } });
}

function hasControlCharacter(text: string): boolean {
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** `worktree` must already be a real path. Returns the runner's target argument. */
export async function runnerTarget(worktree: string, runner: RunnerName, target: string): Promise<string> {
  const trimmed = target.trim();
  if (trimmed === "") throw invalid("the test target is empty", target);
  if (hasControlCharacter(trimmed)) throw invalid("the test target contains control characters", target);
  if (trimmed.startsWith("-")) throw invalid("the test target may not start with '-' (it would be read as an option)", target);
  const separator = runner === "pytest" ? trimmed.indexOf("::") : -1;
  const suffix = separator === -1 ? "" : trimmed.slice(separator);
  let pathPart = separator === -1 ? trimmed : trimmed.slice(0, separator);
  let recursive = "";
  if (runner === "go" && (pathPart === "..." || pathPart.endsWith("/..."))) {
    recursive = "/...";
    pathPart = pathPart === "..." ? "." : pathPart.slice(0, -4) || ".";
  }
  const absolute = path.resolve(worktree, pathPart);
  if (!isWithin(worktree, absolute)) throw invalid(`the test target ${target} lies outside the worktree`, target);
  const info = await stat(absolute).catch(() => undefined);
  if (info === undefined) {
    // a go import path (example.com/mod/pkg) names no file; go resolves it inside the module
    const importPath = runner === "go" && !path.isAbsolute(pathPart) && !pathPart.startsWith(".") && !pathPart.split("/").includes("..");
    if (importPath) return `${pathPart}${recursive}`;
    throw invalid(`the test target ${target} does not exist in the worktree`, target);
  }
  const real = await realpath(absolute);
  if (!isWithin(worktree, real)) throw invalid(`the test target ${target} resolves outside the worktree (${real})`, target);
  const relative = path.relative(worktree, real).split(path.sep).join("/");
  if (relative === "") return runner === "go" && recursive === "" ? "." : `.${recursive === "" ? "" : recursive}${suffix}`;
  return runner === "go" ? `./${relative}${recursive}` : `${relative}${suffix}`;
}
