/** Running the built `kodo` binary's `ci run` and `verify` as a CI job would, and reading what they leave. */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { CLI, makeHome } from "../support/kodo-process.js";
import type { CiResult } from "../../src/ci/run-ci.js";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** The environment of a CI job: this one without any kodo or database settings, plus `extra`. */
export function jobEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("KODO_") || name === "DATABASE_URL") continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** `node apps/cli/dist/main.js …argv` in `cwd`; killed (and failing the test) after `killAfterMs`. */
export function runCli(argv: readonly string[], options: { cwd: string; env: Record<string, string>; killAfterMs?: number }): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 600_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/** A job directory (where the task file and the out dir live). */
export async function jobDir(prefix: string): Promise<string> {
  return makeHome(prefix);
}

export async function writeTaskFile(dir: string, name: string, content: string | Record<string, unknown>): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

/** result.json as `kodo ci run` writes it (the type is the writer's own). */
export type ResultJson = CiResult;

export async function readResult(outDir: string): Promise<ResultJson> {
  return JSON.parse(await readFile(path.join(outDir, "result.json"), "utf8")) as ResultJson;
}

export async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

export async function tempDir(parent: string, prefix: string): Promise<string> {
  return mkdtemp(path.join(parent, prefix));
}
