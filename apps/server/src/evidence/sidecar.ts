/**
 * The pieces of an evidence bundle that are about single files: sha256 of a file, the GNU
 * `sha256sum -b` line of its sidecar, and the byte order (LC_ALL=C) paths are sorted in.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** Every checksum file ends in this; `<file>.sha256` sits next to `<file>`. */
export const SIDECAR_SUFFIX = ".sha256";

/** sha256 (hex) and size of a file, streamed (artifacts may be large). */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    hash.update(buffer);
    bytes += buffer.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * The line `sha256sum -b NAME` prints, run in the file's own directory: `<hex> *<name>\n`. Like GNU
 * coreutils, a name with a backslash, newline or carriage return is escaped and the line starts
 * with a backslash, so `sha256sum -c` reads every sidecar back.
 */
export function sidecarLine(sha256: string, fileName: string): string {
  if (!/[\\\n\r]/.test(fileName)) return `${sha256} *${fileName}\n`;
  const escaped = fileName.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r");
  return `\\${sha256} *${escaped}\n`;
}

/** Byte order of the UTF-8 encodings, as `LC_ALL=C sort` orders paths. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/**
 * A path inside a bundle as the manifest may name it: relative, `/`-separated, no empty, `.` or
 * `..` segment, no NUL. Anything else could point outside the bundle.
 */
export function isBundlePath(candidate: string): boolean {
  if (candidate === "" || candidate.startsWith("/") || candidate.includes("\0")) return false;
  return candidate.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}
