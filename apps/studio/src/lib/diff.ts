/**
 * A unified diff as `git diff` writes it (the run's `diff.patch`), parsed into files, hunks and
 * numbered lines for the diff viewer. Tolerant: what it does not understand it keeps as notes.
 */
export type DiffLineKind = "add" | "del" | "context" | "note";

export interface DiffLine {
  kind: DiffLineKind;
  text: string;
  oldNumber: number | null;
  newNumber: number | null;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  oldPath: string | null;
  newPath: string | null;
  status: "added" | "deleted" | "modified" | "renamed";
  binary: boolean;
  additions: number;
  deletions: number;
  hunks: DiffHunk[];
}

/** The display name of a file: its new path, or the old one for a deletion, with a rename shown. */
export function fileLabel(file: DiffFile): string {
  if (file.status === "renamed" && file.oldPath !== null && file.newPath !== null) return `${file.oldPath} → ${file.newPath}`;
  return file.newPath ?? file.oldPath ?? "(unknown file)";
}

function stripPrefix(raw: string): string | null {
  const value = raw.trim().replace(/\t.*$/, "");
  if (value === "/dev/null") return null;
  const unquoted = value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  return unquoted.replace(/^[ab]\//, "");
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function parseUnifiedDiff(patch: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | undefined;
  let hunk: DiffHunk | undefined;
  let oldLine = 0;
  let newLine = 0;
  const startFile = (): DiffFile => {
    const created: DiffFile = { oldPath: null, newPath: null, status: "modified", binary: false, additions: 0, deletions: 0, hunks: [] };
    files.push(created);
    hunk = undefined;
    return created;
  };
  for (const line of patch.split("\n")) {
    if (line.startsWith("diff --git ")) {
      file = startFile();
      const names = /^diff --git (?:"?a\/(.+?)"?) (?:"?b\/(.+?)"?)$/.exec(line);
      if (names !== null) {
        file.oldPath = names[1] ?? null;
        file.newPath = names[2] ?? null;
      }
      continue;
    }
    if (hunk !== undefined && file !== undefined) {
      const marker = line[0];
      if (marker === "+") {
        hunk.lines.push({ kind: "add", text: line.slice(1), oldNumber: null, newNumber: newLine });
        newLine += 1;
        file.additions += 1;
        continue;
      }
      if (marker === "-") {
        hunk.lines.push({ kind: "del", text: line.slice(1), oldNumber: oldLine, newNumber: null });
        oldLine += 1;
        file.deletions += 1;
        continue;
      }
      if (marker === " ") {
        hunk.lines.push({ kind: "context", text: line.slice(1), oldNumber: oldLine, newNumber: newLine });
        oldLine += 1;
        newLine += 1;
        continue;
      }
      if (marker === "\\") {
        hunk.lines.push({ kind: "note", text: line.slice(1).trim(), oldNumber: null, newNumber: null });
        continue;
      }
    }
    const hunkHeader = HUNK.exec(line);
    if (hunkHeader !== null) {
      file ??= startFile();
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
      oldLine = Number(hunkHeader[1]);
      newLine = Number(hunkHeader[2]);
      continue;
    }
    if (line.startsWith("--- ")) {
      file ??= startFile();
      hunk = undefined;
      file.oldPath = stripPrefix(line.slice(4));
      continue;
    }
    if (line.startsWith("+++ ")) {
      file ??= startFile();
      hunk = undefined;
      file.newPath = stripPrefix(line.slice(4));
      continue;
    }
    if (file === undefined) continue;
    if (line.startsWith("new file mode")) file.status = "added";
    else if (line.startsWith("deleted file mode")) file.status = "deleted";
    else if (line.startsWith("rename from ")) {
      file.status = "renamed";
      file.oldPath = line.slice("rename from ".length);
    } else if (line.startsWith("rename to ")) {
      file.status = "renamed";
      file.newPath = line.slice("rename to ".length);
    } else if (line.startsWith("Binary files ") || line === "GIT binary patch") file.binary = true;
  }
  for (const parsed of files) {
    if (parsed.status === "added") parsed.oldPath = null;
    if (parsed.status === "deleted") parsed.newPath = null;
  }
  return files;
}
