import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, open, readdir, readlink, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RecordedFile } from "./audit-types.js";

/** Content above this is hashed but not kept: such a file is reported, not restorable. */
const MAX_KEPT_BYTES = 1024 * 1024;

/**
 * What is at `file`, never following a symlink; a missing path (or parent) is `absent`. Without
 * `keepContent` only the hash is kept (what the agent left is compared, never stored).
 */
export async function recordFile(file: string, keepContent = true): Promise<RecordedFile> {
  let info;
  try {
    info = await lstat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "absent" };
    throw error;
  }
  if (info.isSymbolicLink()) return { kind: "symlink", target: await readlink(file) };
  if (info.isDirectory()) return { kind: "directory" };
  if (!info.isFile()) return { kind: "other" };
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const digest = createHash("sha256");
    const kept: Buffer[] = [];
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      const buffer = chunk as Buffer;
      digest.update(buffer);
      size += buffer.length;
      if (keepContent && size <= MAX_KEPT_BYTES) kept.push(buffer);
    }
    const content = keepContent && size <= MAX_KEPT_BYTES ? Buffer.concat(kept).toString("base64") : null;
    return { kind: "file", mode: info.mode & 0o7777, size, sha256: digest.digest("hex"), content };
  } finally {
    await handle.close();
  }
}

/** Same content, same permission bits, same link target. */
export function sameFile(a: RecordedFile, b: RecordedFile): boolean {
  if (a.kind === "file" && b.kind === "file") return a.sha256 === b.sha256 && a.mode === b.mode;
  if (a.kind === "symlink" && b.kind === "symlink") return a.target === b.target;
  return a.kind === b.kind;
}

export function describeFile(file: RecordedFile): string {
  if (file.kind === "file") return `file ${file.sha256.slice(0, 12)} mode ${file.mode.toString(8)}`;
  if (file.kind === "symlink") return `symlink to ${JSON.stringify(file.target)}`;
  return file.kind;
}

/** Whether `restoreRecordedFile` can bring `want` back. */
export function canRestore(want: RecordedFile): boolean {
  return want.kind === "absent" || want.kind === "symlink" || (want.kind === "file" && want.content !== null);
}

/**
 * One level of a directory (hooks), sorted by name; a missing directory is empty. Something else
 * in its place (a symlink to elsewhere) is one entry named `.`, and is never read through.
 */
export async function recordDirectory(directory: string, keepContent = true): Promise<{ name: string; file: RecordedFile }[]> {
  const itself = await recordFile(directory, false);
  if (itself.kind === "absent") return [];
  if (itself.kind !== "directory") return [{ name: ".", file: itself }];
  const entries: { name: string; file: RecordedFile }[] = [];
  for (const name of (await readdir(directory)).sort()) entries.push({ name, file: await recordFile(path.join(directory, name), keepContent) });
  return entries;
}

/**
 * Puts `want` back at `target`: a file through a temporary sibling renamed over it (the content
 * is checked against the recorded hash first), a symlink recreated, an absent path removed
 * (`removeDirectories` allows removing a directory, used for the gitdir's hooks only).
 */
export async function restoreRecordedFile(target: string, want: RecordedFile, removeDirectories = false): Promise<void> {
  const current = await recordFile(target);
  if (sameFile(current, want)) return;
  if (current.kind === "directory" && !(removeDirectories && want.kind === "absent")) {
    throw new Error(`a directory now stands at ${target}; not removed`);
  }
  if (want.kind === "absent") {
    await rm(target, { recursive: removeDirectories, force: true });
    return;
  }
  if (want.kind === "symlink") {
    if (current.kind !== "absent") await unlink(target);
    await symlink(want.target, target);
    return;
  }
  if (want.kind !== "file" || want.content === null) throw new Error(`the content of ${target} was not recorded (${want.kind})`);
  const bytes = Buffer.from(want.content, "base64");
  if (createHash("sha256").update(bytes).digest("hex") !== want.sha256) throw new Error(`the recorded content of ${target} does not match its hash`);
  const temporary = path.join(path.dirname(target), `.kodo-restore-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(temporary, bytes, { flag: "wx", mode: want.mode & 0o777 });
    // writeFile's mode is masked by the umask
    await chmod(temporary, want.mode & 0o7777);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
