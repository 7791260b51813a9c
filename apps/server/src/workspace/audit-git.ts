import { realpath } from "node:fs/promises";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { isWithin } from "../lib/paths.js";
import { runGit, splitNul } from "./git.js";
import type { Worktree } from "./types.js";
import { listWorktrees } from "./worktree-list.js";

/** Where a worktree's git state lives: found once before the step, then never re-discovered. */
export interface GitLocation {
  worktreePath: string;
  gitDir: string;
  commonDir: string;
}

/**
 * Config pinned for every git call of the audit, on top of `runGit`'s (no hooks, no fsmonitor):
 * what the agent may have changed in the config must not change what the audit sees.
 */
const PINNED_CONFIG: readonly (readonly [string, string])[] = [
  ["core.autocrlf", "false"],
  ["core.safecrlf", "false"],
  ["core.fileMode", "true"],
  ["core.symlinks", "true"],
  ["core.sparseCheckout", "false"],
  ["core.untrackedCache", "false"],
];
const FILTER_KEYS = ["clean", "smudge", "process"] as const;

/**
 * Finds the worktree's gitdir before the step (the only time `.git` is followed) and checks it is
 * a linked worktree of `worktree.repoRoot`: its common dir is the repository's, its gitdir lies in
 * `<common>/worktrees/`.
 */
export async function locateWorktreeGit(worktree: Worktree): Promise<GitLocation> {
  const own = await runGit(["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"], { cwd: worktree.path });
  const repo = await runGit(["rev-parse", "--path-format=absolute", "--git-common-dir"], { cwd: worktree.repoRoot });
  const [gitDirRaw = "", commonDirRaw = ""] = own.stdout.split("\n");
  const gitDir = await realpath(gitDirRaw);
  const commonDir = await realpath(commonDirRaw);
  const repoCommonDir = await realpath(repo.stdout.replace(/\n$/, ""));
  const worktreesDir = path.join(commonDir, "worktrees");
  if (commonDir !== repoCommonDir || !isWithin(worktreesDir, gitDir) || gitDir === worktreesDir) {
    throw new KodoError("WORKTREE_REQUIRED", `${worktree.path} is not a linked worktree of ${worktree.repoRoot}`, {
      details: { path: worktree.path, repoRoot: worktree.repoRoot, gitDir, commonDir, repoCommonDir },
    });
  }
  return { worktreePath: worktree.path, gitDir, commonDir };
}

/** GIT_DIR, GIT_COMMON_DIR and GIT_WORK_TREE pinned: a rewritten `.git` or `commondir` is not followed. */
export function pinnedLocation(location: GitLocation): Record<string, string> {
  return { GIT_DIR: location.gitDir, GIT_COMMON_DIR: location.commonDir, GIT_WORK_TREE: location.worktreePath };
}

/**
 * The environment of the audit's git calls: the location pinned, PINNED_CONFIG, and every filter
 * driver named in the config switched off (a `clean`/`smudge`/`process` command would run during
 * `git add` or `checkout-index`; off, blobs hold the file's bytes as they are on disk). Reading
 * the config runs nothing; it fails when the config is malformed.
 */
export async function auditGitEnv(location: GitLocation): Promise<Record<string, string>> {
  const base = pinnedLocation(location);
  // a gitdir git no longer accepts (a broken HEAD) would leave `git config` reading no repository config
  await runGit(["rev-parse", "--git-dir"], { cwd: location.worktreePath, env: base });
  const listed = await runGit(["config", "-z", "--name-only", "--get-regexp", "^filter\\."], {
    cwd: location.worktreePath,
    env: base,
    allowFail: true,
  });
  // exit 1: no filter configured
  if (listed.code !== 0 && listed.code !== 1) {
    throw new KodoError("GIT_FAILED", `could not read the git config of ${location.worktreePath}: ${listed.stderr}`, {
      details: { stderr: listed.stderr, exitCode: listed.code },
    });
  }
  const drivers = new Set<string>();
  for (const name of splitNul(listed.stdout)) {
    const lastDot = name.lastIndexOf(".");
    if (lastDot > "filter.".length) drivers.add(name.slice("filter.".length, lastDot));
  }
  const entries: [string, string][] = PINNED_CONFIG.map(([key, value]) => [key, value]);
  for (const driver of [...drivers].sort()) {
    for (const key of FILTER_KEYS) entries.push([`filter.${driver}.${key}`, ""]);
    entries.push([`filter.${driver}.required`, "false"]);
  }
  const env: Record<string, string> = { ...base, GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}

/** HEAD's commit and the branch it names; null for what cannot be read (unborn, detached, broken). */
export async function readHead(cwd: string, env: Record<string, string>): Promise<{ head: string | null; symbolicHead: string | null }> {
  const head = await runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { cwd, env, allowFail: true });
  const symbolic = await runGit(["symbolic-ref", "--quiet", "HEAD"], { cwd, env, allowFail: true });
  const branch = symbolic.stdout.trim();
  return {
    head: head.code === 0 ? head.stdout.trim() : null,
    symbolicHead: symbolic.code === 0 && branch.startsWith("refs/") ? branch : null,
  };
}

/** Every ref, name → object id, sorted by name (ref names hold no spaces or newlines). */
export async function readRefs(cwd: string, env: Record<string, string>): Promise<{ name: string; oid: string }[]> {
  const listing = await runGit(["for-each-ref", "--format=%(objectname) %(refname)"], { cwd, env, maxOutputBytes: 256 * 1024 * 1024 });
  const refs: { name: string; oid: string }[] = [];
  for (const line of listing.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space === -1) continue;
    refs.push({ oid: line.slice(0, space), name: line.slice(space + 1) });
  }
  return refs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The file a gitdir name stands for. */
export function gitFilePath(location: GitLocation, name: string): string {
  const inGitDir = name === "config.worktree" || name === "commondir" || name === "gitdir" || name === "HEAD";
  return path.join(inGitDir ? location.gitDir : location.commonDir, name);
}

export function hooksDirectory(location: GitLocation): string {
  return path.join(location.commonDir, "hooks");
}

/** Branches HEAD names in the repository's other worktrees (the user's checkout among them). */
export async function branchesCheckedOutElsewhere(worktree: Worktree): Promise<Set<string>> {
  const branches = new Set<string>();
  for (const entry of await listWorktrees(worktree.repoRoot)) {
    if (entry.path !== worktree.path && entry.branch !== undefined) branches.add(entry.branch);
  }
  return branches;
}
