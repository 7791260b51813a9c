/**
 * A case's evidence, as the seed lists it: `stdout.txt` (what the agent answered), `stderr.txt`
 * (what kodo saw: errors, policy answers, audit findings, restores), `git_status.txt` (porcelain),
 * `git_diff.txt` (name-status, when anything changed), `repo_commit.txt`, `worktree_check.txt`,
 * and each new file copied as `item_01.<ext>`, `item_02.<ext>`, … (in path order). Each file gets a
 * `.sha256` sidecar; the list the result carries is sorted by path in byte order (LC_ALL=C).
 * Status, diff and new files are read right after the agent's turn, before any restore.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { compareBytes } from "../evidence/sidecar.js";
import { describeError } from "../lib/errors.js";
import { runGit } from "../workspace/git.js";
import { snapshotWorktree } from "../workspace/snapshot.js";
import type { CaseId } from "./cases.js";
import { writeWithSidecar } from "./ledger.js";
import { headOf, porcelainStatus } from "./workspace.js";

/** New files larger than this are listed in stderr.txt but not copied. */
const MAX_ITEM_BYTES = 1024 * 1024;

export interface CaseStart {
  head: string;
  /** the tree's content (tracked and untracked) as a git tree */
  tree: string;
}

export interface NewFile {
  path: string;
  /** null when not copied (not a regular file, or too large); `note` says why */
  content: Buffer | null;
  note?: string;
}

export interface CaseChanges {
  status: string;
  /** `git diff --name-status` between the tree before and after the case ("" when nothing changed) */
  diff: string;
  newFiles: NewFile[];
}

export async function startCapture(directory: string): Promise<CaseStart> {
  return { head: await headOf(directory), tree: (await snapshotWorktree(directory)).tree };
}

/** Reads what the case changed: status, diff and the new files' content (before anything is restored). */
export async function captureChanges(directory: string, start: CaseStart): Promise<CaseChanges> {
  const status = await porcelainStatus(directory);
  const after = (await snapshotWorktree(directory)).tree;
  if (after === start.tree) return { status, diff: "", newFiles: [] };
  const diff = (await runGit(["diff", "--name-status", "--no-renames", start.tree, after], { cwd: directory })).stdout;
  const added = diff
    .split("\n")
    .filter((line) => line.startsWith("A\t"))
    .map((line) => line.slice(2))
    .sort(compareBytes);
  const newFiles: NewFile[] = [];
  for (const relative of added) {
    const full = path.join(directory, ...relative.split("/"));
    const stat = await lstat(full).catch(() => undefined);
    if (stat === undefined || !stat.isFile()) newFiles.push({ path: relative, content: null, note: "not a regular file (not copied)" });
    else if (stat.size > MAX_ITEM_BYTES) newFiles.push({ path: relative, content: null, note: `${stat.size} bytes (not copied, over ${MAX_ITEM_BYTES})` });
    else newFiles.push({ path: relative, content: await readFile(full).catch((error: unknown) => Buffer.from(`unreadable: ${describeError(error)}\n`)) });
  }
  return { status, diff, newFiles };
}

export interface EvidenceInput {
  stdout: string;
  stderr: string;
  changes: CaseChanges;
  head: string;
  worktreeCheck: string;
}

export interface EvidenceEntry {
  path: string;
  sha256: string;
}

/** `item_01.mjs` for the first copied file `….mjs`; an extension that is not plain letters and digits is dropped. */
function itemName(index: number, source: string): string {
  const extension = path.posix.extname(source);
  return `item_${String(index).padStart(2, "0")}${/^\.[A-Za-z0-9_-]{1,16}$/.test(extension) ? extension : ""}`;
}

function withNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

/** Writes `evidence/<id>/…` under `runDir` with sidecars; returns the entries sorted by path (byte order). */
export async function writeCaseEvidence(runDir: string, id: CaseId, input: EvidenceInput): Promise<EvidenceEntry[]> {
  const files: { name: string; content: string | Buffer }[] = [
    { name: "stdout.txt", content: withNewline(input.stdout) },
    { name: "stderr.txt", content: withNewline(input.stderr) },
    { name: "git_status.txt", content: input.changes.status },
    { name: "repo_commit.txt", content: `${input.head}\n` },
    { name: "worktree_check.txt", content: withNewline(input.worktreeCheck) },
  ];
  if (input.changes.diff !== "") files.push({ name: "git_diff.txt", content: input.changes.diff });
  let item = 0;
  for (const file of input.changes.newFiles) {
    if (file.content === null) continue;
    item += 1;
    files.push({ name: itemName(item, file.path), content: file.content });
  }
  const entries: EvidenceEntry[] = [];
  for (const file of files) {
    const relative = `evidence/${id}/${file.name}`;
    entries.push({ path: relative, sha256: await writeWithSidecar(path.join(runDir, ...relative.split("/")), file.content) });
  }
  return entries.sort((a, b) => compareBytes(a.path, b.path));
}

/** Which new file became which item (for stderr.txt). */
export function itemIndex(newFiles: readonly NewFile[]): string[] {
  let item = 0;
  return newFiles.map((file) => {
    if (file.content === null) return `new file ${file.path}: ${file.note ?? "not copied"}`;
    item += 1;
    return `new file ${file.path} → ${itemName(item, file.path)}`;
  });
}
