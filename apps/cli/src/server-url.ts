/**
 * Where the kodo server is: `--url`, else `KODO_URL`, else `$KODO_HOME/server.json` (written by
 * `kodo serve`; KODO_HOME defaults to ~/.kodo), else SERVER_NOT_RUNNING.
 */
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CliError, ExitCode } from "./errors.js";

export interface ServerLocation {
  url: string;
  /** where the URL came from, for messages: "--url", "KODO_URL" or the server file's path */
  source: string;
}

const START_HINT = "start it with `kodo serve`";

export function serverFilePath(env: NodeJS.ProcessEnv): string {
  const home = env["KODO_HOME"] !== undefined && env["KODO_HOME"] !== "" ? env["KODO_HOME"] : path.join(os.homedir(), ".kodo");
  return path.join(path.resolve(home), "server.json");
}

function normalizeUrl(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError("USAGE", `${source} is not a URL: ${JSON.stringify(raw)}`, ExitCode.usage);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CliError("USAGE", `${source} must be an http(s) URL, got ${JSON.stringify(raw)}`, ExitCode.usage);
  }
  return url.href.replace(/\/+$/, "");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function notRunning(message: string): CliError {
  return new CliError("SERVER_NOT_RUNNING", `${message}; ${START_HINT}`, ExitCode.unavailable);
}

async function fromServerFile(file: string): Promise<ServerLocation> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch {
    throw notRunning(`the kodo server is not running (no --url, no KODO_URL, no ${file})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw notRunning(`${file} is not valid JSON`);
  }
  const record = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const { url, pid } = record;
  if (typeof url !== "string") throw notRunning(`${file} names no server url`);
  if (typeof pid === "number" && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) {
    throw notRunning(`${file} is stale: the server's process ${pid} is not running`);
  }
  return { url: normalizeUrl(url, file), source: file };
}

export async function resolveServer(flag: string | undefined, env: NodeJS.ProcessEnv): Promise<ServerLocation> {
  if (flag !== undefined) return { url: normalizeUrl(flag, "--url"), source: "--url" };
  const fromEnv = env["KODO_URL"];
  if (fromEnv !== undefined && fromEnv !== "") return { url: normalizeUrl(fromEnv, "KODO_URL"), source: "KODO_URL" };
  return fromServerFile(serverFilePath(env));
}

/**
 * The API token: `KODO_TOKEN`, else the 0600 file `$KODO_HOME/token` that `kodo serve` writes;
 * undefined when neither is there (the server then answers UNAUTHORIZED, which says what to do).
 */
export async function resolveToken(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const fromEnv = env["KODO_TOKEN"]?.trim();
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const home = env["KODO_HOME"] !== undefined && env["KODO_HOME"] !== "" ? env["KODO_HOME"] : path.join(os.homedir(), ".kodo");
  try {
    const token = (await readFile(path.join(home, "token"), "utf8")).trim();
    return token === "" ? undefined : token;
  } catch {
    return undefined;
  }
}
