/**
 * The suite's ledger: one directory per run, `RUN_0001`, `RUN_0002`, … (the highest number found
 * plus one), holding `run_summary.json`, `cases/<id>.result.json` and `evidence/<id>/…`. Every
 * file is written with its `<file>.sha256` sidecar (`<sha256> *<name>`, evidence/sidecar.ts).
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SIDECAR_SUFFIX, sidecarLine } from "../evidence/sidecar.js";
import { KodoError } from "../lib/errors.js";

const RUN_DIR = /^RUN_(\d{4})$/;
const MAX_RUN = 9999;

export interface RunDirectory {
  runId: string;
  dir: string;
}

/** `RUN_` and the number, zero-padded to 4. */
export function formatRunId(number: number): string {
  return `RUN_${String(number).padStart(4, "0")}`;
}

/** The highest run number in `ledgerDir` (0 when there is none). Other entries are ignored. */
export async function highestRun(ledgerDir: string): Promise<number> {
  const entries = await readdir(ledgerDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  let highest = 0;
  for (const entry of entries) {
    const match = RUN_DIR.exec(entry.name);
    if (match?.[1] !== undefined && entry.isDirectory()) highest = Math.max(highest, Number(match[1]));
  }
  return highest;
}

/**
 * Claims the next run directory. `mkdir` without `recursive` fails when another run took the
 * number first; then the next one is tried.
 */
export async function allocateRun(ledgerDir: string): Promise<RunDirectory> {
  await mkdir(ledgerDir, { recursive: true });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const next = (await highestRun(ledgerDir)) + 1;
    if (next > MAX_RUN) throw new KodoError("CONFLICT", `the ledger ${ledgerDir} already holds ${formatRunId(MAX_RUN)}: use another --ledger directory`);
    const runId = formatRunId(next);
    const dir = path.join(ledgerDir, runId);
    try {
      await mkdir(dir);
      return { runId, dir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  throw new KodoError("CONFLICT", `could not claim a run directory in ${ledgerDir}: other runs keep taking the next number`);
}

export function sha256Of(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** Writes `file` and its sidecar; returns the content's sha256. */
export async function writeWithSidecar(file: string, content: string | Buffer): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  const sha256 = sha256Of(content);
  await writeFile(file, content);
  await writeFile(`${file}${SIDECAR_SUFFIX}`, sidecarLine(sha256, path.basename(file)));
  return sha256;
}

/** Two-space JSON with a final newline: what every suite document looks like on disk. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
