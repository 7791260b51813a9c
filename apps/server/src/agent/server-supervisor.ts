/**
 * The OpenCode server of one kodo home: started isolated and password-protected, recorded in a
 * pidfile, restarted with backoff when it dies, and stopped together with what it started.
 */
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { KodoError, describeError } from "../lib/errors.js";
import { prepareServiceSandbox, type ServiceSandbox } from "../sandbox/index.js";
import { openCodeSandboxSpec, prepareSandboxedStateDirs, type AgentSandboxOptions, type AgentSandboxReport } from "./agent-sandbox.js";
import { writeAgentShell } from "./agent-shell.js";
import type { AgentEventListener } from "./event-types.js";
import { createEventStream, type AgentEventStream } from "./events.js";
import { DEFAULT_HTTP_TIMEOUTS, createTimedFetch, type HttpTimeouts, type TimedFetch } from "./http.js";
import { openCodeConfig, resolveOpenCodeBinary, type AgentModelOptions } from "./opencode-config.js";
import { ownStartTime, readPidfile, removePidfile, writePidfile } from "./pidfile.js";
import { isAlive } from "./process-table.js";
import { handleLeftover, killServerProcesses, politeShutdown, type CleanupReport } from "./server-cleanup.js";
import { launchOpenCode, serverEnv, type LaunchedServer } from "./server-process.js";
import { settleWithin, sleep } from "./wait.js";

export interface RestartInfo {
  restarts: number;
  url: string;
  pid: number;
}

export interface OpenCodeServerOptions {
  /** below the kodo home; holds the XDG dirs, the pidfile and the API key file */
  stateDir: string;
  model: AgentModelOptions;
  logFile: string;
  onEvent?: AgentEventListener;
  onRestart?: (info: RestartInfo) => void;
  /** the server died and could not be restarted within the bounded attempts */
  onGiveUp?: (error: KodoError) => void;
  /** default 30 s */
  readyTimeoutMs?: number;
  /** restart attempts per failure streak (default 5) and the first backoff delay (default 500 ms, doubling) */
  restart?: { maxAttempts?: number; initialDelayMs?: number };
  http?: Partial<HttpTimeouts>;
  /** SIGTERM → SIGKILL grace when stopping (default 5 s) */
  stopGraceMs?: number;
  /** extra environment for the server (applied last) */
  env?: Record<string, string>;
  /**
   * Run the server in bubblewrap (agent-sandbox.ts): read-only root, these paths on top of the
   * state dirs OpenCode needs, network shared, each bash command in a nested sandbox when that
   * works here. SANDBOX_UNAVAILABLE when bubblewrap does not work; call from the main thread.
   */
  sandbox?: AgentSandboxOptions;
}

export type ServerState = "running" | "restarting" | "failed" | "stopped";

export interface OpenCodeServer {
  readonly url: string;
  readonly password: string;
  readonly pid: number;
  readonly restarts: number;
  readonly state: ServerState;
  readonly stateDir: string;
  /** the server runs in the agent sandbox */
  readonly sandboxed: boolean;
  /** how (undefined: unsandboxed) */
  readonly sandbox: AgentSandboxReport | undefined;
  /** the SDK client of the current process (a new one after each restart) */
  client(): OpencodeClient;
  /** the timed, authenticated fetch every call to this server goes through */
  readonly fetch: typeof fetch;
  readonly events: AgentEventStream;
  /** what the leftover cleanup at start found (undefined: there was none) */
  readonly leftover: CleanupReport | undefined;
  onRestart(listener: (info: RestartInfo) => void): () => void;
  /** directories with sessions: stop() looks there for busy sessions to abort */
  noteDirectory(directory: string): void;
  stop(): Promise<CleanupReport>;
}

const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** a server that ran this long before dying starts a fresh failure streak */
const HEALTHY_RUN_MS = 60_000;
const API_KEY_FILE = "model-api-key";

export async function startOpenCodeServer(options: OpenCodeServerOptions): Promise<OpenCodeServer> {
  const stateDir = path.resolve(options.stateDir);
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const graceMs = options.stopGraceMs ?? 5_000;
  const maxAttempts = options.restart?.maxAttempts ?? 5;
  const initialDelayMs = options.restart?.initialDelayMs ?? 500;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  const leftover = await handleLeftover(stateDir, graceMs);

  const apiKeyFile = path.join(stateDir, API_KEY_FILE);
  fs.writeFileSync(apiKeyFile, options.model.apiKey === "" ? "unused" : options.model.apiKey, { mode: 0o600 });
  // The real file: inside the sandbox only its directory is bound, so a symlink to it would dangle.
  const binary = fs.realpathSync(resolveOpenCodeBinary());
  let sandbox: ServiceSandbox | undefined;
  if (options.sandbox !== undefined) {
    prepareSandboxedStateDirs(stateDir);
    // kodo itself may be installed where the sandbox hides (a checkout under /tmp): bind the binary's directory read-only
    const withBinary = { ...options.sandbox, readOnly: [...(options.sandbox.readOnly ?? []), path.dirname(binary)] };
    sandbox = await prepareServiceSandbox(openCodeSandboxSpec(stateDir, apiKeyFile, withBinary));
  }
  const password = randomBytes(24).toString("base64url");
  const http: TimedFetch = createTimedFetch(password, { ...DEFAULT_HTTP_TIMEOUTS, ...options.http });
  const env = serverEnv({
    stateDir,
    password,
    configContent: JSON.stringify(openCodeConfig(options.model, apiKeyFile, writeAgentShell(stateDir, sandbox?.nestedCommand))),
    // the sandbox has its own empty /tmp: an inherited TMPDIR below the host's /tmp would not exist in it
    extra: { ...(sandbox === undefined ? {} : { TMPDIR: "/tmp" }), ...options.env },
  });
  const recordPidfile = (pid: number, url: string): void => {
    // detached: the server leads its own process group, so pgid = pid
    const ownerStartTime = ownStartTime();
    writePidfile(stateDir, {
      pid,
      pgid: pid,
      url,
      startedAt: new Date().toISOString(),
      ownerPid: process.pid,
      ...(ownerStartTime === undefined ? {} : { ownerStartTime }),
    });
  };
  const launch = (): Promise<LaunchedServer> =>
    launchOpenCode({
      binary,
      stateDir,
      env,
      logFile: options.logFile,
      readyTimeoutMs,
      http,
      onSpawn: (pid) => recordPidfile(pid, ""),
      ...(sandbox === undefined ? {} : { sandbox: { bwrapPath: sandbox.bwrapPath, flags: sandbox.flags } }),
    });

  let current: LaunchedServer;
  try {
    current = await launch();
  } catch (error) {
    await http.close();
    throw error;
  }
  let currentClient = createOpencodeClient({ baseUrl: current.url, fetch: http.fetch });
  let state: ServerState = "running";
  let restarts = 0;
  let stopping: Promise<CleanupReport> | undefined;
  /** aborted when stop() begins: cuts restart backoffs short */
  const stopSignal = new AbortController();
  /** the restart loop in flight, if any: stop() waits for it (bounded) */
  let supervising: Promise<void> = Promise.resolve();
  const restartListeners = new Set<(info: RestartInfo) => void>();
  if (options.onRestart !== undefined) restartListeners.add(options.onRestart);
  const directories = new Set<string>();

  recordPidfile(current.pid, current.url);

  const events = createEventStream({
    endpoint: () => (state === "running" ? { url: current.url, fetch: http.fetch } : undefined),
  });
  if (options.onEvent !== undefined) events.subscribe(options.onEvent);

  /**
   * The process died without stop(): restart it with doubling backoff. Launch failures and deaths
   * within HEALTHY_RUN_MS of a start form one streak, bounded by maxAttempts; then we give up.
   */
  let crashStreak = 0;
  const superviseExit = (server: LaunchedServer, launchedAt: number): void => {
    supervising = server.exited.then(async () => {
      if (stopping !== undefined || server !== current) return;
      state = "restarting";
      if (performance.now() - launchedAt > HEALTHY_RUN_MS) crashStreak = 0;
      // whatever the dead server started keeps running otherwise (and holds files and ports)
      await killServerProcesses(server.pid, stateDir, 1_000, server.namespace);
      let lastError: unknown = new Error(`the server exited (pid ${server.pid})`);
      while (crashStreak < maxAttempts) {
        await sleep(initialDelayMs * 2 ** crashStreak, stopSignal.signal);
        crashStreak += 1;
        if (stopping !== undefined) return;
        try {
          const next = await launch();
          if (stopping !== undefined) {
            await killServerProcesses(next.pid, stateDir, 1_000, next.namespace);
            return;
          }
          current = next;
          currentClient = createOpencodeClient({ baseUrl: next.url, fetch: http.fetch });
          restarts += 1;
          state = "running";
          recordPidfile(next.pid, next.url);
          events.reconnectNow();
          superviseExit(next, performance.now());
          notifyRestart({ restarts, url: next.url, pid: next.pid });
          return;
        } catch (error) {
          lastError = error;
        }
      }
      state = "failed";
      removePidfile(stateDir);
      options.onGiveUp?.(
        new KodoError("OPENCODE_START_FAILED", `the OpenCode server kept dying; gave up after ${maxAttempts} attempts: ${describeError(lastError)}`, {
          cause: lastError,
        }),
      );
    });
  };
  const notifyRestart = (info: RestartInfo): void => {
    for (const listener of [...restartListeners]) {
      try {
        listener(info);
      } catch {
        // a listener's failure is its own
      }
    }
  };
  superviseExit(current, performance.now());

  await events.waitConnected(5_000);

  const stop = async (): Promise<CleanupReport> => {
    stopSignal.abort();
    const server = current;
    let abortedSessions: string[] = [];
    if (state === "running" && isAlive(server.pid)) {
      abortedSessions = await politeShutdown(currentClient, directories);
    }
    state = "stopped";
    await events.stop();
    let survivors = await killServerProcesses(server.pid, stateDir, graceMs, server.namespace);
    // a restart in flight ends itself once it sees stop(); a server it spawned after our kill
    // pass is killed by it. Bounded: a launch gives up after readyTimeoutMs.
    await settleWithin(supervising, readyTimeoutMs + 5_000);
    if (current !== server) survivors = [...survivors, ...(await killServerProcesses(current.pid, stateDir, graceMs, current.namespace))];
    // the child's exit is usually seen by now; never wait on it unbounded
    await settleWithin(server.exited, 1_000);
    await http.close();
    const pidfile = readPidfile(stateDir);
    if (pidfile === undefined || pidfile.ownerPid === process.pid) removePidfile(stateDir);
    return { abortedSessions, survivors };
  };

  return {
    get url() {
      return current.url;
    },
    password,
    get pid() {
      return current.pid;
    },
    get restarts() {
      return restarts;
    },
    get state() {
      return state;
    },
    stateDir,
    sandboxed: sandbox !== undefined,
    sandbox:
      sandbox === undefined
        ? undefined
        : { nestedCommands: sandbox.nestedCommand !== undefined, mounts: sandbox.mounts.map((mount) => ({ ...mount })), notes: [...sandbox.notes] },
    client() {
      if (state === "stopped" || state === "failed") {
        throw new KodoError("AGENT_UNAVAILABLE", `the OpenCode server is ${state}`, { retryable: state === "failed" });
      }
      return currentClient;
    },
    fetch: http.fetch,
    events,
    leftover,
    onRestart(listener) {
      restartListeners.add(listener);
      return () => restartListeners.delete(listener);
    },
    noteDirectory(directory) {
      directories.add(path.resolve(directory));
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}
