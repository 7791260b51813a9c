/**
 * Ending an OpenCode server and everything it started: abort busy sessions, dispose its
 * instances, signal its process group, then hunt the processes that still carry the state dir's
 * marker in their environment (the bash tool starts commands in their own session, so they
 * escape the group). Sandboxed, the group is bwrap's: when it ends, the kernel ends every member
 * of the sandbox's pid namespace, marked or not; we check that the namespace is empty.
 */
import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2";
import path from "node:path";
import { TIMEOUT_HEADER, createTimedFetch, type TimedFetch } from "./http.js";
import { KodoError } from "../lib/errors.js";
import { STATE_MARKER_ENV, isOurServer, ownerAlive, readPidfile, removePidfile } from "./pidfile.js";
import type { HeldNamespace } from "../sandbox/pid-namespace.js";
import { killMarkedProcesses, killProcessGroup, readEnviron } from "./process-table.js";

export interface CleanupReport {
  /** sessions that were busy and got an abort */
  abortedSessions: string[];
  /** pids still alive after everything (should be empty) */
  survivors: number[];
}

/** Bounded time for the polite part (abort + dispose) before the signals. */
const POLITE_TIMEOUT_MS = 3_000;
/** How many recent sessions we look at to find the directories with work in flight. */
const RECENT_SESSIONS = 50;

function timed(ms: number): { headers: Record<string, string> } {
  return { headers: { [TIMEOUT_HEADER]: String(ms) } };
}

/**
 * Busy (or retrying) sessions of the server, across the directories it knows: `/session/status`
 * is per directory, so the directories come from `knownDirectories` plus the recent sessions.
 */
export async function busySessions(client: OpencodeClient, knownDirectories: Iterable<string>): Promise<{ id: string; directory: string }[]> {
  const directories = new Set(knownDirectories);
  const recent = await client.experimental.session.list({ limit: RECENT_SESSIONS, roots: false }, timed(POLITE_TIMEOUT_MS)).catch(() => undefined);
  for (const session of recent?.data ?? []) directories.add(session.directory);
  // `GET /session/status` without a directory only covers the server's own cwd, and v2's
  // `/api/session/active` does not list these sessions (both checked on 1.18.33)
  const perDirectory = await Promise.all(
    [...directories].map(async (directory) => {
      const status = await client.session.status({ directory }, timed(POLITE_TIMEOUT_MS)).catch(() => undefined);
      return Object.entries(status?.data ?? {})
        .filter(([, value]) => value.type !== "idle")
        .map(([id]) => ({ id, directory }));
    }),
  );
  return perDirectory.flat();
}

/** Abort busy sessions and dispose every instance; each call bounded, failures ignored (we signal next). */
export async function politeShutdown(client: OpencodeClient, knownDirectories: Iterable<string>): Promise<string[]> {
  const politeDeadline = AbortSignal.timeout(POLITE_TIMEOUT_MS * 2);
  const busy = await Promise.race([
    busySessions(client, knownDirectories),
    new Promise<{ id: string; directory: string }[]>((resolve) => politeDeadline.addEventListener("abort", () => resolve([]), { once: true })),
  ]);
  await Promise.all(
    busy.map((session) =>
      client.session.abort({ sessionID: session.id, directory: session.directory }, timed(POLITE_TIMEOUT_MS)).catch(() => undefined),
    ),
  );
  await client.global.dispose(timed(POLITE_TIMEOUT_MS)).catch(() => undefined);
  return busy.map((session) => session.id);
}

async function emptied(namespace: HeldNamespace, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (namespace.members().length > 0) {
    if (performance.now() >= until) return false;
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/**
 * Signals: the group (TERM, grace, KILL), then every process still marked with this state dir.
 * `namespace` (sandboxed): must then be empty; what is left is SIGKILLed through its init.
 * Released afterwards.
 */
export async function killServerProcesses(pgid: number | undefined, stateDir: string, graceMs: number, namespace?: HeldNamespace): Promise<number[]> {
  const groupSurvivors = pgid === undefined ? [] : await killProcessGroup(pgid, graceMs);
  const markedSurvivors = await killMarkedProcesses(STATE_MARKER_ENV, path.resolve(stateDir), Math.min(graceMs, 2_000));
  let namespaceSurvivors: number[] = [];
  if (namespace !== undefined) {
    if (!(await emptied(namespace, 2_000))) {
      namespace.killInit();
      namespace.signalMembers("SIGKILL");
      await emptied(namespace, 2_000);
    }
    namespaceSurvivors = namespace.members();
    namespace.release();
  }
  return [...new Set([...groupSurvivors, ...markedSurvivors, ...namespaceSurvivors])];
}

/**
 * A leftover server of a kodo that died: talk to it with the password from its own environment,
 * shut it down politely, then kill it and its marked descendants.
 */
export async function cleanUpLeftover(leftover: { pid: number; pgid: number; url: string }, stateDir: string, graceMs: number): Promise<CleanupReport> {
  let abortedSessions: string[] = [];
  const password = readEnviron(leftover.pid)?.get("OPENCODE_SERVER_PASSWORD");
  // url "" = it crashed while starting: nothing to be polite to
  if (password !== undefined && leftover.url !== "") {
    const http: TimedFetch = createTimedFetch(password);
    try {
      const client = createOpencodeClient({ baseUrl: leftover.url, fetch: http.fetch });
      abortedSessions = await politeShutdown(client, []);
    } finally {
      await http.close();
    }
  }
  const survivors = await killServerProcesses(leftover.pgid, stateDir, graceMs);
  return { abortedSessions, survivors };
}

/** A leftover of a crashed kodo in this state dir is shut down and killed; a live owner's server is refused. */
export async function handleLeftover(stateDir: string, graceMs: number): Promise<CleanupReport | undefined> {
  const pidfile = readPidfile(stateDir);
  if (pidfile === undefined) return undefined;
  if (!isOurServer(pidfile.pid, stateDir)) {
    removePidfile(stateDir); // stale: the process is gone or the pid now belongs to a stranger
    // children of a dead server may still run with our marker
    const survivors = await killServerProcesses(undefined, stateDir, graceMs);
    return { abortedSessions: [], survivors };
  }
  if (pidfile.ownerPid !== process.pid && ownerAlive(pidfile)) {
    throw new KodoError("CONFLICT", `the OpenCode server of ${stateDir} (pid ${pidfile.pid}) belongs to the running process ${pidfile.ownerPid}`, {
      details: { pidfile },
    });
  }
  const report = await cleanUpLeftover(pidfile, stateDir, graceMs);
  removePidfile(stateDir);
  return report;
}
