import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import path from "node:path";
import { takeAuditSnapshot, writeAgentInstructions, type AuditReport, type AuditRules, type AuditSnapshot, type Worktree } from "../../src/workspace/worktree.js";
import { git, makeRepo, newWorktree, writeFiles } from "./fixtures.js";

export const RULES: AuditRules = { writeRoots: ["src"], deletionAllowlist: [] };

export interface Setup {
  repo: string;
  worktree: Worktree;
  wt: string;
  gitDir: string;
  commonDir: string;
  before: AuditSnapshot;
  /** git in the worktree, as the agent would run it */
  agentGit: (...args: string[]) => string;
}

/**
 * A kodo worktree as an agent step finds it: kodo's AGENTS.md, an uncommitted edit, untracked
 * work and an ignored file left by earlier steps; a side branch in the repository. Snapshot taken.
 */
export async function setup(prepare?: (worktree: Worktree) => void): Promise<Setup> {
  const repo = makeRepo({
    "README.md": "# demo\n",
    ".gitignore": ".env\nbuild/\n",
    "src/app.txt": "one\ntwo\nthree\n",
    "src/lib/util.txt": "util\n",
    "docs/guide.md": "guide\n",
    "scripts/run.sh": "#!/bin/sh\necho run\n",
  });
  git(repo, ["branch", "side"]);
  const worktree = await newWorktree(repo);
  await writeAgentInstructions(worktree, "do the task");
  writeFiles(worktree.path, { "src/app.txt": "one\ntwo (edited)\nthree\n", "notes/todo.txt": "todo\n", ".env": "SECRET=1\n" });
  prepare?.(worktree);
  const [gitDir = "", commonDir = ""] = git(worktree.path, ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"]).split("\n");
  const before = await takeAuditSnapshot(worktree);
  return { repo, worktree, wt: worktree.path, gitDir, commonDir, before, agentGit: (...args) => git(worktree.path, args) };
}

/** `kind:path` of every finding, sorted. */
export function kinds(report: AuditReport): string[] {
  return report.findings.map((finding) => `${finding.kind}:${finding.path ?? ""}`).sort();
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

/** Every file under `root` (not `.git`, not kodo's AGENTS.md): mode and content hash, links as targets. */
export function filesOf(root: string, relative = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path.join(root, relative)).sort()) {
    if (relative === "" && (name === ".git" || name === "AGENTS.md")) continue;
    const child = relative === "" ? name : `${relative}/${name}`;
    const absolute = path.join(root, child);
    const info = lstatSync(absolute);
    if (info.isSymbolicLink()) out[child] = `link:${readlinkSync(absolute)}`;
    else if (info.isDirectory()) Object.assign(out, filesOf(root, child));
    else out[child] = `${(info.mode & 0o777).toString(8)}:${sha256(readFileSync(absolute))}`;
  }
  return out;
}
