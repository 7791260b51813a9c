/**
 * Path resolution the way the Linux kernel does it, component by component, instead of the
 * string arithmetic of `path.resolve` (which folds `link/..` without looking at the link).
 *
 * Each component is `lstat`ed; a symlink's target is spliced into the remaining components
 * (relative to the link's directory, or from `/` when absolute), so a later `..` applies to the
 * *resolved* prefix; at most 40 links are followed (Linux MAXSYMLINKS: the 41st is ELOOP);
 * a component below a non-directory is ENOTDIR. A component that does not exist ends the
 * walk on the file system: the rest is appended as names (`..` drops one), giving the path
 * `open(O_CREAT)` would create — that is how a dangling symlink's target is found.
 * Every failure is a value (the errno and where), never a throw.
 */
import { lstat, readlink } from "node:fs/promises";

export const MAX_SYMLINKS = 40;

/** What the resolved path is: `missing` when it does not exist (yet). */
export type EntryKind = "file" | "directory" | "other" | "missing";

export type WalkResult =
  | {
      kind: "resolved";
      /** absolute, no symlinks, no `.` or `..` */
      path: string;
      entry: EntryKind;
      /** the hard-link count of an existing entry (0 when missing) */
      nlink: number;
      /** how many symlinks were followed */
      symlinks: number;
    }
  | {
      kind: "failed";
      /** ELOOP, ENOTDIR, EACCES, ENAMETOOLONG, … (the errno the kernel would give) */
      errno: string;
      /** the path at which resolution stopped */
      at: string;
    };

/**
 * The components of a path, in order. An empty component (`a//b`, a trailing `/`) is `.`: it
 * still demands that what precedes it is a directory, as it does for the kernel.
 */
function componentsOf(text: string): string[] {
  const parts = text.split("/");
  if (text.startsWith("/")) parts.shift();
  return parts.map((part) => (part === "" ? "." : part));
}

function joinComponents(components: readonly string[]): string {
  return `/${components.join("/")}`;
}

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "EIO";
}

/**
 * `text` made absolute against `base` by concatenation only: no `..` is folded here, because
 * folding it before the links are known is exactly the mistake this module avoids.
 */
export function joinUnresolved(base: string, text: string): string {
  return text.startsWith("/") ? text : `${base}/${text}`;
}

/** Resolves an absolute path like the kernel (see the module comment). */
export async function walkPath(absolute: string): Promise<WalkResult> {
  if (!absolute.startsWith("/")) throw new TypeError(`walkPath needs an absolute path, got ${JSON.stringify(absolute)}`);
  const resolved: string[] = [];
  // Remaining components, next one last (so a symlink's target is pushed in reverse).
  const pending = componentsOf(absolute).reverse();
  let entry: EntryKind = "directory";
  let nlink = 0;
  let symlinks = 0;

  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (entry === "file" || entry === "other") return { kind: "failed", errno: "ENOTDIR", at: joinComponents(resolved) };
    if (name === ".") continue;
    if (name === "..") {
      resolved.pop(); // `/..` is `/`
      if (entry !== "missing") entry = "directory";
      continue;
    }
    if (entry === "missing") {
      resolved.push(name);
      continue;
    }
    const candidate = joinComponents([...resolved, name]);
    let stats;
    try {
      stats = await lstat(candidate);
    } catch (error) {
      const errno = errnoOf(error);
      if (errno !== "ENOENT") return { kind: "failed", errno, at: candidate };
      resolved.push(name);
      entry = "missing";
      nlink = 0;
      continue;
    }
    if (stats.isSymbolicLink()) {
      symlinks += 1;
      if (symlinks > MAX_SYMLINKS) return { kind: "failed", errno: "ELOOP", at: candidate };
      let target: string;
      try {
        target = await readlink(candidate);
      } catch (error) {
        return { kind: "failed", errno: errnoOf(error), at: candidate };
      }
      // An empty link target is ENOENT for the kernel; it never means "this directory".
      if (target === "") return { kind: "failed", errno: "ENOENT", at: candidate };
      if (target.startsWith("/")) resolved.length = 0;
      pending.push(...componentsOf(target).reverse());
      continue; // the prefix is unchanged: still the directory that holds the link
    }
    resolved.push(name);
    entry = stats.isDirectory() ? "directory" : stats.isFile() ? "file" : "other";
    nlink = stats.nlink;
  }
  return { kind: "resolved", path: joinComponents(resolved), entry, nlink, symlinks };
}
