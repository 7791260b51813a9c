import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";
import { KodoError } from "../../src/lib/errors.js";
import { createWorktree } from "../../src/workspace/worktree.js";
import type { Worktree } from "../../src/workspace/worktree.js";

const created: string[] = [];

afterEach(() => {
  for (const directory of created.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A fresh directory (symlinks resolved), removed after the test. */
export function tempDir(prefix = "kodo-ws-"): string {
  const directory = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  created.push(directory);
  return directory;
}

/** git as a test uses it: never refreshes an index it only looks at. */
export function git(cwd: string, args: string[], input?: string): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    input: input ?? "",
    env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(root, name);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** `git init -b main` with an identity in the repo config, and one commit of `files` (if any). */
export function makeRepo(files: Record<string, string> = { "README.md": "# demo\n", "src/app.txt": "one\ntwo\nthree\n" }): string {
  const repo = path.join(tempDir("kodo-repo-"), "repo");
  mkdirSync(repo);
  git(repo, ["init", "-q", "-b", "main"]);
  git(repo, ["config", "user.name", "Test User"]);
  git(repo, ["config", "user.email", "test@example.com"]);
  if (Object.keys(files).length > 0) {
    writeFiles(repo, files);
    git(repo, ["add", "-A"]);
    git(repo, ["commit", "-q", "-m", "initial"]);
  }
  return repo;
}

export function commitAll(repo: string, message: string): string {
  git(repo, ["add", "-A"]);
  git(repo, ["commit", "-q", "-m", message]);
  return git(repo, ["rev-parse", "HEAD"]).trim();
}

export async function newWorktree(repo: string, overrides: { slug?: string; shortId?: string; baseRef?: string } = {}): Promise<Worktree> {
  return createWorktree({
    repoPath: repo,
    baseRef: overrides.baseRef ?? "main",
    slug: overrides.slug ?? "demo-task",
    shortId: overrides.shortId ?? "ab12cd34",
    worktreesRoot: path.join(tempDir("kodo-wt-"), "worktrees"),
  });
}

const sha256 = (data: Buffer | string): string => createHash("sha256").update(data).digest("hex");

function fileTree(root: string, relative = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(root, relative)).sort()) {
    if (relative === "" && name === ".git") continue;
    const child = relative === "" ? name : `${relative}/${name}`;
    const absolute = path.join(root, child);
    const info = lstatSync(absolute);
    if (info.isSymbolicLink()) out[child] = `link:${readlinkSync(absolute)}`;
    else if (info.isDirectory()) Object.assign(out, fileTree(root, child), { [`${child}/`]: "dir" });
    else out[child] = `${(info.mode & 0o777).toString(8)}:${sha256(readFileSync(absolute))}`;
  }
  return out;
}

const hashIfExists = (file: string): string => (existsSync(file) ? sha256(readFileSync(file)) : "absent");

/** Everything of the user's checkout that kodo must leave byte-identical. */
export function checkoutState(repo: string): Record<string, unknown> {
  const gitDir = path.join(repo, ".git");
  return {
    status: git(repo, ["status", "--porcelain=v2", "-z", "--untracked-files=all", "--branch"]),
    index: hashIfExists(path.join(gitDir, "index")),
    head: readFileSync(path.join(gitDir, "HEAD"), "utf8"),
    headCommit: git(repo, ["rev-parse", "HEAD"]),
    config: hashIfExists(path.join(gitDir, "config")),
    exclude: hashIfExists(path.join(gitDir, "info", "exclude")),
    stash: git(repo, ["stash", "list"]),
    files: fileTree(repo),
  };
}

/** The worktree's own index file (inside the repository's gitdir). */
export function worktreeIndexHash(worktree: Worktree): string {
  const indexPath = git(worktree.path, ["rev-parse", "--path-format=absolute", "--git-path", "index"]).trim();
  return hashIfExists(indexPath);
}

export function trackedAt(worktree: Worktree, revision: string, file: string): string | undefined {
  try {
    return git(worktree.path, ["cat-file", "-p", `${revision}:${file}`]);
  } catch {
    return undefined;
  }
}

/** The KodoError `promise` rejects with (anything else fails the test). */
export async function kodoErrorOf(promise: Promise<unknown>): Promise<KodoError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KodoError) return error;
    throw error;
  }
  throw new Error("expected a KodoError, but it resolved");
}

export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await kodoErrorOf(promise)).code;
}
