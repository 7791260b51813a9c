/**
 * Launching one `opencode serve` process: isolated environment, its own process group, output to
 * a log file, and a readiness check with a deadline. Restarts and cleanup live in the supervisor.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { KodoError, describeError } from "../lib/errors.js";
import { HeldNamespace } from "../sandbox/pid-namespace.js";
import { TIMEOUT_HEADER, type TimedFetch } from "./http.js";
import { STATE_MARKER_ENV } from "./pidfile.js";
import { killProcessGroup, listPids, readStat } from "./process-table.js";

const LISTENING = /opencode server listening on (http:\/\/[^\s]+)/;
/** Variables of kodo's own environment the server (and the agent's shell) may see; nothing else leaks. */
const INHERITED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM"];

export interface ServerEnvOptions {
  stateDir: string;
  password: string;
  configContent: string;
  /** extra variables (tests, proxies); applied last */
  extra?: Record<string, string>;
}

/** State dirs below `stateDir`: OpenCode keeps sessions, snapshots and caches there, never in ~. */
export function stateDirs(stateDir: string): { data: string; config: string; state: string; cache: string; work: string } {
  return {
    data: path.join(stateDir, "xdg", "data"),
    config: path.join(stateDir, "xdg", "config"),
    state: path.join(stateDir, "xdg", "state"),
    cache: path.join(stateDir, "xdg", "cache"),
    work: path.join(stateDir, "work"),
  };
}

export function serverEnv(options: ServerEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const dirs = stateDirs(options.stateDir);
  return {
    ...env,
    XDG_DATA_HOME: dirs.data,
    XDG_CONFIG_HOME: dirs.config,
    XDG_STATE_HOME: dirs.state,
    XDG_CACHE_HOME: dirs.cache,
    OPENCODE_SERVER_PASSWORD: options.password,
    OPENCODE_CONFIG_CONTENT: options.configContent,
    OPENCODE_DISABLE_PROJECT_CONFIG: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1",
    OPENCODE_DISABLE_EXTERNAL_SKILLS: "1",
    // plugin installs go to a dead registry and are skipped quickly (see docs/opencode-headless.md)
    npm_config_registry: "http://127.0.0.1:9/",
    [STATE_MARKER_ENV]: path.resolve(options.stateDir),
    ...options.extra,
  };
}

export interface LaunchOptions {
  binary: string;
  stateDir: string;
  env: Record<string, string>;
  logFile: string;
  readyTimeoutMs: number;
  http: TimedFetch;
  /** called right after spawn, before readiness: record the pid while it starts (a crash then leaves a findable leftover) */
  onSpawn?: (pid: number) => void;
  /**
   * Run it as `bwrap <flags> -- <binary> serve …` (sandbox/service-sandbox.ts). The pid, the
   * process group and the pidfile are then bwrap's; the environment is bwrap's own, handed on.
   */
  sandbox?: { bwrapPath: string; flags: string[] };
}

export interface LaunchedServer {
  child: ChildProcess;
  pid: number;
  url: string;
  /** resolves when the process exits (never rejects) */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** sandboxed: the sandbox's pid namespace, held open so that a member found later is certainly ours */
  namespace: HeldNamespace | undefined;
}

async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number, maxBytes = 64 * 1024): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const buffer = Buffer.alloc(maxBytes);
    const bytes = fs.readSync(fd, buffer, 0, maxBytes, offset);
    return buffer.subarray(0, bytes).toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The last lines this launch wrote to the log, for error messages. */
function logTail(file: string, offset: number): string {
  const size = fileSize(file);
  const from = Math.max(offset, size - 2_000);
  return readFrom(file, from, size - from).trim();
}

async function healthy(url: string, http: TimedFetch): Promise<boolean> {
  try {
    const response = await http.fetch(`${url}/global/health`, { headers: { [TIMEOUT_HEADER]: "2000" } });
    if (!response.ok) return false;
    const body: unknown = await response.json();
    return typeof body === "object" && body !== null && (body as { healthy?: unknown }).healthy === true;
  } catch {
    return false;
  }
}

/** The pid namespace of a sandbox whose bwrap is `bwrapPid`: its child is the namespace's init. */
function holdSandboxNamespace(bwrapPid: number): HeldNamespace | undefined {
  const init = listPids().find((pid) => readStat(pid)?.ppid === bwrapPid);
  if (init === undefined) return undefined;
  let link: string;
  try {
    link = fs.readlinkSync(`/proc/${init}/ns/pid`);
  } catch {
    return undefined;
  }
  const inode = Number(/^pid:\[(\d+)\]$/.exec(link)?.[1]);
  return Number.isInteger(inode) ? HeldNamespace.hold(init, inode) : undefined;
}

/**
 * Spawns `opencode serve --port 0` and resolves once it printed its URL and answered
 * `GET /global/health`. On any failure (spawn error, early exit, deadline) the process group is
 * killed and KodoError OPENCODE_START_FAILED is thrown with the tail of the log.
 */
export async function launchOpenCode(options: LaunchOptions): Promise<LaunchedServer> {
  const dirs = stateDirs(options.stateDir);
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const offset = fileSize(options.logFile);
  const logFd = fs.openSync(options.logFile, "a", 0o600);
  let child: ChildProcess;
  try {
    // stdout/stderr go straight to the file: the server never depends on kodo draining a pipe,
    // so it keeps running (and can be found through the pidfile) if kodo dies. Sandboxed, it
    // does not: `--die-with-parent` ends it with kodo.
    const serve = ["serve", "--port", "0", "--hostname", "127.0.0.1"];
    const { file, args } =
      options.sandbox === undefined
        ? { file: options.binary, args: serve }
        : { file: options.sandbox.bwrapPath, args: [...options.sandbox.flags, "--", options.binary, ...serve] };
    // sandboxed: bwrap passes this environment on (`--setenv` would show the password in
    // /proc/<pid>/cmdline, which every user can read); detached as before, and spawned from this
    // (main) thread: `--die-with-parent` follows the spawning thread
    child = spawn(file, args, {
      cwd: dirs.work,
      env: options.env,
      detached: true,
      stdio: ["ignore", logFd, logFd],
    });
  } finally {
    fs.closeSync(logFd);
  }
  // filled in by the child's events while we poll
  const seen: { error?: Error; exit?: { code: number | null; signal: NodeJS.Signals | null } } = {};
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      seen.exit = { code, signal };
      resolve(seen.exit);
    });
    child.once("error", (error) => {
      seen.error = error;
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });

  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  const fail = async (reason: string): Promise<never> => {
    if (child.pid !== undefined) await killProcessGroup(child.pid, 2_000);
    const tail = logTail(options.logFile, offset);
    throw new KodoError("OPENCODE_START_FAILED", `opencode serve did not start: ${reason}`, {
      retryable: true,
      details: { logFile: options.logFile, logTail: tail },
    });
  };

  const deadline = performance.now() + options.readyTimeoutMs;
  let url: string | undefined;
  while (url === undefined) {
    if (seen.error !== undefined) return fail(`spawn failed: ${describeError(seen.error)}`);
    if (seen.exit !== undefined) return fail(`exited early (code ${seen.exit.code}, signal ${seen.exit.signal})`);
    if (performance.now() > deadline) return fail(`no "listening" line within ${options.readyTimeoutMs} ms`);
    url = LISTENING.exec(readFrom(options.logFile, offset))?.[1]?.replace(/\/+$/, "");
    if (url === undefined) await sleep(50);
  }
  while (!(await healthy(url, options.http))) {
    if (seen.exit !== undefined) return fail(`exited after listening (code ${seen.exit.code}, signal ${seen.exit.signal})`);
    if (performance.now() > deadline) return fail(`GET /global/health not healthy within ${options.readyTimeoutMs} ms`);
    await sleep(100);
  }
  const pid = child.pid;
  if (pid === undefined) return fail("no pid");
  return { child, pid, url, exited, namespace: options.sandbox === undefined ? undefined : holdSandboxNamespace(pid) };
}
