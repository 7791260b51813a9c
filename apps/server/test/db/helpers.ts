import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isPostmasterOf, terminatePostmaster } from "../../src/db/postmaster.js";
import { childPids, isRunning, processInfo } from "../../src/db/proc.js";

export const isRoot = process.getuid?.() === 0;

/**
 * A fresh temp folder for one test's data dir and log. mkdtemp makes it 0700; as root Postgres
 * runs as `postgres` and must be able to enter it, so open it to 0755.
 */
export async function tempRoot(prefix: string): Promise<{ dir: string; dataDir: string; logFile: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kodo-db-${prefix}-`));
  await chmod(dir, 0o755);
  return {
    dir,
    dataDir: path.join(dir, "pg", "data"),
    logFile: path.join(dir, "pg", "postgres.log"),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Pids of every running postgres process whose postmaster serves `dataDir` (for leak checks). */
export async function postgresOf(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await processInfo(Number(entry));
    if (info === undefined || info.state === "Z") continue;
    if (await isPostmasterOf(info, dataDir)) pids.push(info.pid, ...(await childPids(info.pid)));
  }
  return pids;
}

/** Stops whatever postgres still serves `dataDir` (cleanup after a failed test). */
export async function killPostgresOf(dataDir: string): Promise<void> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await processInfo(Number(entry));
    if (info !== undefined && info.state !== "Z" && (await isPostmasterOf(info, dataDir))) {
      await terminatePostmaster(info.pid, dataDir, { gracefulMs: 2_000, killMs: 5_000 }).catch(() => undefined);
    }
  }
}

export { isRunning };

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

export interface ChildServer {
  child: ChildProcess;
  /** stdout lines after the first (the JSON line), as they come */
  lines: AsyncIterator<string>;
  url: string;
  pid: number;
  port: number;
  ownerPid: number;
}

/**
 * Runs fixtures/embedded-child.mjs in a real separate Node process (importing kodo's TS source
 * through fixtures/ts-loader.mjs) and waits for the JSON line it prints once its server is ready.
 */
export async function startChildServer(dataDir: string, logFile: string, timeoutMs = 60_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ["--import", path.join(fixtures, "ts-loader.mjs"), path.join(fixtures, "embedded-child.mjs"), dataDir, logFile], {
    stdio: ["pipe", "pipe", "pipe"],
    // its own process group, so a test can play a terminal's Ctrl-C (SIGINT to the whole group)
    detached: true,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = new Promise<string>((resolve, reject) => {
    lines.next().then((line) => (line.done === true ? reject(new Error(`child closed stdout: ${stderr}`)) : resolve(line.value)), reject);
    child.once("exit", (code) => reject(new Error(`child exited (${String(code)}) before it was ready: ${stderr}`)));
    setTimeout(() => reject(new Error(`child not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs).unref();
  });
  try {
    const parsed = JSON.parse(await first) as Omit<ChildServer, "child" | "lines">;
    return { child, lines, ...parsed };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** SIGKILLs a child and waits until it is gone. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
