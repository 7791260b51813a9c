import { lstat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { runGit, splitNul } from "./git.js";
import { AGENTS_FILE, type Worktree } from "./types.js";

export const KODO_SECTION_BEGIN = "<!-- kodo:begin -->";
export const KODO_SECTION_END = "<!-- kodo:end -->";
const MAX_SYMLINK_HOPS = 8;
/** a stand-in root for resolving symlinks inside a git tree (never touches the file system) */
const TREE_ROOT = "/tree";

/**
 * Writes AGENTS.md at the worktree root for the agent. When the base commit has its own
 * AGENTS.md, the file is theirs first, then kodo's section. Only the worktree's file changes:
 * the repository's config and `info/exclude` stay untouched. It stays out of commits because
 * `commitWork` (and every snapshot) leaves the root AGENTS.md at the base commit's version.
 * Idempotent: always rebuilt from the base commit, never appended to the current file.
 */
export async function writeAgentInstructions(
  worktree: Worktree,
  content: string,
): Promise<{ path: string; mergedWithRepositoryFile: boolean }> {
  await assertWorktreeDirectory(worktree);
  const theirs = await repositoryAgentsFile(worktree);
  const section = [
    KODO_SECTION_BEGIN,
    "<!-- Written by kodo for this task only: not part of the repository, never committed. -->",
    content.trim(),
    KODO_SECTION_END,
    "",
  ].join("\n");
  const combined = theirs === undefined ? section : `${theirs}${theirs.endsWith("\n") ? "" : "\n"}\n${section}`;
  const target = path.join(worktree.path, AGENTS_FILE);
  await removeExisting(target);
  // O_EXCL: never follows a symlink planted at the path
  await writeFile(target, combined, { flag: "wx", mode: 0o644 });
  return { path: target, mergedWithRepositoryFile: theirs !== undefined };
}

/** Puts the root AGENTS.md back to the base commit's version (or removes it if it had none). */
export async function restoreRepositoryAgentsFile(worktree: Worktree): Promise<void> {
  const entry = await treeEntry(worktree, AGENTS_FILE);
  if (entry === undefined) {
    await removeExisting(path.join(worktree.path, AGENTS_FILE));
    return;
  }
  // from the worktree's own index (which holds HEAD's entry): filters and file modes applied
  await runGit(["checkout-index", "--force", "--", AGENTS_FILE], { cwd: worktree.path });
}

async function assertWorktreeDirectory(worktree: Worktree): Promise<void> {
  const info = await lstat(worktree.path).catch(() => undefined);
  if (info?.isDirectory() !== true) {
    throw new KodoError("WORKTREE_REQUIRED", `worktree ${worktree.path} does not exist`, { details: { path: worktree.path } });
  }
}

async function removeExisting(target: string): Promise<void> {
  const info = await lstat(target).catch(() => undefined);
  if (info === undefined) return;
  if (info.isDirectory()) {
    throw new KodoError("WORKTREE_FAILED", `${target} is a directory; kodo cannot write its instructions there`, { details: { path: target } });
  }
  await unlink(target);
}

interface TreeEntry {
  mode: string;
  type: string;
  object: string;
}

async function treeEntry(worktree: Worktree, file: string): Promise<TreeEntry | undefined> {
  const listing = await runGit(["ls-tree", "-z", "--full-tree", worktree.baseCommit, "--", file], {
    cwd: worktree.path,
    env: { GIT_LITERAL_PATHSPECS: "1" },
  });
  const line = splitNul(listing.stdout)[0];
  if (line === undefined) return undefined;
  const [meta = "", name] = line.split("\t");
  const [mode = "", type = "", object = ""] = meta.split(" ");
  return name === file ? { mode, type, object } : undefined;
}

/**
 * The base commit's AGENTS.md text. A symlink is followed inside the commit's tree only (a link
 * to outside the repository counts as no file: kodo never reads outside it on the agent's behalf).
 */
async function repositoryAgentsFile(worktree: Worktree): Promise<string | undefined> {
  let file = AGENTS_FILE;
  for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop += 1) {
    const entry = await treeEntry(worktree, file);
    if (entry === undefined) return undefined;
    const blob = async (): Promise<string> => (await runGit(["cat-file", "blob", entry.object], { cwd: worktree.path })).stdout;
    if (entry.mode === "100644" || entry.mode === "100755") return await blob();
    if (entry.mode !== "120000") {
      if (file !== AGENTS_FILE) return undefined;
      throw new KodoError("WORKTREE_FAILED", `the repository's ${AGENTS_FILE} is a ${entry.type}, not a file`, { details: { path: worktree.path } });
    }
    const target = await blob();
    if (path.posix.isAbsolute(target)) return undefined;
    const resolved = path.posix.resolve(TREE_ROOT, path.posix.dirname(file), target);
    if (!isWithin(TREE_ROOT, resolved) || resolved === TREE_ROOT) return undefined;
    file = path.posix.relative(TREE_ROOT, resolved);
  }
  return undefined;
}
