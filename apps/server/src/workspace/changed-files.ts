import { KodoError } from "../lib/errors.js";
import { runGit, splitNul } from "./git.js";
import type { ChangedFile, DiffStat } from "./types.js";

const DIFF_TIMEOUT_MS = 5 * 60_000;
const MAX_PATCH_BYTES = 64 * 1024 * 1024;
/** plumbing, rename-aware, never an external diff or textconv program from the repo's config */
const DIFF_OPTIONS = ["-r", "-M", "--no-ext-diff", "--no-textconv"];

/** The files that differ between two trees (or commits), with line counts, paths exact (`-z`). */
export async function changedFiles(cwd: string, from: string, to: string): Promise<{ files: ChangedFile[]; stat: DiffStat }> {
  const [names, numbers] = await Promise.all([
    runGit(["diff-tree", ...DIFF_OPTIONS, "-z", "--name-status", from, to], { cwd, timeoutMs: DIFF_TIMEOUT_MS }),
    runGit(["diff-tree", ...DIFF_OPTIONS, "-z", "--numstat", from, to], { cwd, timeoutMs: DIFF_TIMEOUT_MS }),
  ]);
  const counts = parseNumstat(numbers.stdout);
  const files = parseNameStatus(names.stdout).map((file): ChangedFile => {
    const count = counts.get(file.path) ?? { insertions: 0, deletions: 0 };
    return { ...file, insertions: count.insertions, deletions: count.deletions };
  });
  const stat: DiffStat = {
    files: files.length,
    insertions: files.reduce((sum, file) => sum + file.insertions, 0),
    deletions: files.reduce((sum, file) => sum + file.deletions, 0),
  };
  return { files, stat };
}

/** A complete patch (binary files included, so `git apply` can replay it). */
export async function patchBetween(cwd: string, from: string, to: string): Promise<string> {
  const patch = await runGit(
    ["diff-tree", ...DIFF_OPTIONS, "-p", "--binary", "--no-color", "--src-prefix=a/", "--dst-prefix=b/", from, to],
    { cwd, timeoutMs: DIFF_TIMEOUT_MS, maxOutputBytes: MAX_PATCH_BYTES },
  );
  return patch.stdout;
}

type NamedChange = Omit<ChangedFile, "insertions" | "deletions">;

/** `--name-status -z`: `X\0path\0`, or `R<score>\0old\0new\0` for a rename. */
export function parseNameStatus(output: string): NamedChange[] {
  const fields = splitNul(output);
  const changes: NamedChange[] = [];
  for (let i = 0; i < fields.length; ) {
    const letter = (fields[i] ?? "").charAt(0);
    if (letter === "R" || letter === "C") {
      const oldPath = fields[i + 1];
      const newPath = fields[i + 2];
      if (oldPath === undefined || newPath === undefined) throw malformed(output);
      changes.push(letter === "R" ? { path: newPath, status: "renamed", oldPath } : { path: newPath, status: "added" });
      i += 3;
      continue;
    }
    const file = fields[i + 1];
    if (file === undefined) throw malformed(output);
    const status = letter === "A" ? "added" : letter === "D" ? "deleted" : "modified";
    changes.push({ path: file, status });
    i += 2;
  }
  return changes;
}

/** `--numstat -z`: `ins\tdel\tpath\0`, or `ins\tdel\t\0old\0new\0` for a rename; `-` for binary. */
export function parseNumstat(output: string): Map<string, { insertions: number; deletions: number }> {
  const fields = splitNul(output);
  const counts = new Map<string, { insertions: number; deletions: number }>();
  for (let i = 0; i < fields.length; ) {
    const field = fields[i] ?? "";
    const [added = "", deleted = "", inlinePath = ""] = splitTwoTabs(field);
    let file = inlinePath;
    i += 1;
    if (inlinePath === "") {
      // a rename: the old path and the new path follow as fields of their own
      file = fields[i + 1] ?? "";
      i += 2;
    }
    counts.set(file, { insertions: toCount(added), deletions: toCount(deleted) });
  }
  return counts;
}

function splitTwoTabs(field: string): [string, string, string] {
  const first = field.indexOf("\t");
  const second = field.indexOf("\t", first + 1);
  if (first === -1 || second === -1) throw malformed(field);
  return [field.slice(0, first), field.slice(first + 1, second), field.slice(second + 1)];
}

function toCount(value: string): number {
  const count = Number(value);
  return Number.isInteger(count) && count >= 0 ? count : 0;
}

function malformed(output: string): KodoError {
  return new KodoError("GIT_FAILED", "unexpected git diff-tree output", { details: { output: output.slice(0, 500) } });
}
