import { KodoError } from "../lib/errors.js";
import { runGit, splitNul } from "./git.js";

/** One record of `git diff-tree -r -z --raw`: paths exact (never C-quoted with `-z`). */
export interface RawChange {
  /** A, D, M, T or R (C is never asked for) */
  status: "A" | "D" | "M" | "T" | "R";
  srcMode: string;
  dstMode: string;
  srcOid: string;
  dstOid: string;
  /** the path (the destination of a rename) */
  path: string;
  /** the source of a rename */
  from?: string;
}

const DIFF_TIMEOUT_MS = 10 * 60_000;
const DIFF_MAX_BYTES = 256 * 1024 * 1024;

/** Every path that differs between two trees; `renames` turns on `-M`. */
export async function rawDiff(cwd: string, env: Record<string, string>, from: string, to: string, renames: boolean): Promise<RawChange[]> {
  const result = await runGit(["diff-tree", "-r", "-z", "--raw", "--no-abbrev", renames ? "-M" : "--no-renames", from, to], {
    cwd,
    env,
    timeoutMs: DIFF_TIMEOUT_MS,
    maxOutputBytes: DIFF_MAX_BYTES,
  });
  return parseRawDiff(result.stdout);
}

/** `:srcmode dstmode srcoid dstoid X\0path\0`, or `…R<score>\0old\0new\0` for a rename. */
export function parseRawDiff(output: string): RawChange[] {
  const fields = splitNul(output);
  const changes: RawChange[] = [];
  for (let index = 0; index < fields.length; ) {
    const meta = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([ADMTRC])\d*$/.exec(fields[index] ?? "");
    if (meta === null) throw malformed(output);
    const [, srcMode = "", dstMode = "", srcOid = "", dstOid = "", letter = ""] = meta;
    if (letter === "R" || letter === "C") {
      const from = fields[index + 1];
      const to = fields[index + 2];
      if (from === undefined || to === undefined || letter === "C") throw malformed(output);
      changes.push({ status: "R", srcMode, dstMode, srcOid, dstOid, path: to, from });
      index += 3;
      continue;
    }
    const file = fields[index + 1];
    if (file === undefined) throw malformed(output);
    changes.push({ status: letter as RawChange["status"], srcMode, dstMode, srcOid, dstOid, path: file });
    index += 2;
  }
  return changes;
}

function malformed(output: string): KodoError {
  return new KodoError("GIT_FAILED", "unexpected git diff-tree --raw output", { details: { output: output.slice(0, 500) } });
}
