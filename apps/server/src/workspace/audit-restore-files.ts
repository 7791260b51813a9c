import { chmod, lstat, realpath, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import { describeError } from "../lib/errors.js";
import type { GitLocation } from "./audit-git.js";
import { insideAny } from "./audit-rules.js";
import type { RestoreResult } from "./audit-types.js";
import { runGit, splitNul } from "./git.js";
import { withTempIndex } from "./temp-index.js";

const CHECKOUT_TIMEOUT_MS = 10 * 60_000;

/**
 * Puts worktree paths back to the before-tree: a path the tree holds is checked out from it with
 * a temporary index (`read-tree TREE` + `checkout-index -f`: same bytes, same mode; git replaces
 * a symlinked leading directory instead of writing through it); a path it does not hold is
 * removed (a file or symlink only, through no symlinked directory). A path in `modeOnly` whose
 * only change is the executable bit gets its mode back and keeps its content (an edit the rules
 * allow). Left alone, as failures: paths inside nested repositories and where a directory stands.
 */
export async function restoreFiles(
  location: GitLocation,
  env: Record<string, string>,
  tree: string,
  files: readonly string[],
  nestedRepos: readonly string[],
  modeOnly: ReadonlySet<string> = new Set(),
): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], removed: [], failed: [] };
  const root = location.worktreePath;
  const realRoot = await realpath(root);
  const inTree = await treePaths(root, env, tree);
  const directoriesInTree = new Set([...inTree.keys()].flatMap(ancestors));

  const toCheckout: string[] = [];
  for (const file of files) {
    if (insideAny(file, nestedRepos)) {
      result.failed.push({ path: file, error: "inside a nested git repository; kodo does not write there" });
      continue;
    }
    try {
      const mode = inTree.get(file);
      if (mode !== undefined) {
        const info = await lstat(path.join(root, file)).catch(() => undefined);
        if (info?.isDirectory() === true) throw new Error("a directory now stands at this path; not replaced");
        if (modeOnly.has(file) && info?.isFile() === true && (mode === "100644" || mode === "100755")) {
          // the executable bit where the file can be read, as git sets it; nothing else changes
          await chmod(path.join(realRoot, file), mode === "100755" ? info.mode | ((info.mode & 0o444) >> 2) : info.mode & ~0o111 & 0o7777);
          result.restored.push(file);
          continue;
        }
        toCheckout.push(file);
      } else if (await removeFile(realRoot, file, directoriesInTree)) {
        result.removed.push(file);
      }
    } catch (error) {
      result.failed.push({ path: file, error: describeError(error) });
    }
  }
  if (toCheckout.length === 0) return result;

  await withTempIndex(async (indexEnv) => {
    const gitEnv = { ...env, ...indexEnv };
    await runGit(["read-tree", tree], { cwd: root, env: gitEnv });
    const all = await runGit(["checkout-index", "-f", "-z", "--stdin"], {
      cwd: root,
      env: gitEnv,
      input: toCheckout.map((file) => `${file}\0`).join(""),
      timeoutMs: CHECKOUT_TIMEOUT_MS,
      allowFail: true,
    });
    if (all.code === 0) {
      result.restored.push(...toCheckout);
      return;
    }
    // one by one, to tell which paths failed
    for (const file of toCheckout) {
      const one = await runGit(["checkout-index", "-f", "--", file], { cwd: root, env: { ...gitEnv, GIT_LITERAL_PATHSPECS: "1" }, allowFail: true });
      if (one.code === 0) result.restored.push(file);
      else result.failed.push({ path: file, error: one.stderr || `checkout-index exit code ${one.code}` });
    }
  });
  return result;
}

/** Every file path of the tree, with its mode. */
async function treePaths(cwd: string, env: Record<string, string>, tree: string): Promise<Map<string, string>> {
  const listing = await runGit(["ls-tree", "-r", "-z", "--full-tree", tree], {
    cwd,
    env,
    timeoutMs: CHECKOUT_TIMEOUT_MS,
    maxOutputBytes: 256 * 1024 * 1024,
  });
  const entries = new Map<string, string>();
  // `<mode> <type> <object>\t<path>`
  for (const line of splitNul(listing.stdout)) {
    const tab = line.indexOf("\t");
    entries.set(line.slice(tab + 1), line.slice(0, line.indexOf(" ")));
  }
  return entries;
}

function ancestors(file: string): string[] {
  const parts = file.split("/");
  return parts.slice(1).map((_, index) => parts.slice(0, index + 1).join("/"));
}

/**
 * Removes a file the agent added, then its parent directories that became empty and that the
 * before-tree does not have. Refuses when a symlink stands anywhere on the way.
 */
async function removeFile(realRoot: string, file: string, keepDirectories: ReadonlySet<string>): Promise<boolean> {
  const target = path.join(realRoot, file);
  const parent = path.dirname(target);
  const realParent = await realpath(parent).catch(() => undefined);
  if (realParent === undefined) return false;
  if (realParent !== parent) throw new Error(`a symlink stands on the way to ${file}; not removed`);
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return false;
  if (info.isDirectory()) throw new Error("a directory now stands at this path; not removed");
  await unlink(target);
  for (const directory of ancestors(file).reverse()) {
    if (keepDirectories.has(directory)) break;
    const removed = await rmdir(path.join(realRoot, directory)).then(
      () => true,
      () => false,
    );
    if (!removed) break;
  }
  return true;
}
