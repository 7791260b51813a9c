import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, readFile } from "node:fs/promises";
import { registerToken } from "./api.js";
import { fileURLToPath } from "node:url";
import os from "node:os";
import path from "node:path";

export const CLI = fileURLToPath(new URL("../../../cli/dist/main.js", import.meta.url));

export async function makeHome(prefix: string): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(home, 0o755); // as root, embedded Postgres runs as "postgres" and must reach the home
  return home;
}

export interface KodoProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, bounded wait, then SIGKILL */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/** Starts the real `kodo serve` (the built CLI) as a child process and waits until it listens. */
export async function startKodoProcess(env: Record<string, string>, timeoutMs = 90_000, extraArgs: string[] = []): Promise<KodoProcess> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kodo serve did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = (): void => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kodo serve exited (${code}) before listening:\n${out}`));
    });
  });
  registerToken(url, (await readFile(path.join(env["KODO_HOME"] ?? "", "token"), "utf8")).trim());
  const waitExit = async (ms: number): Promise<boolean> =>
    Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      if (!(await waitExit(45_000))) {
        child.kill("SIGKILL");
        await waitExit(5_000);
      }
      return child.exitCode;
    },
    kill9: async () => {
      child.kill("SIGKILL");
      await waitExit(5_000);
    },
  };
}
