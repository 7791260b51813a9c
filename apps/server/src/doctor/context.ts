/**
 * What several checks need to know about the home, found once and shared: the configuration, the
 * kodo process of this home (server.json and its /api/health) and a database connection.
 * Everything is looked up lazily and memoized; every lookup is bounded in time.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { QueryResult, QueryResultRow } from "pg";
import { z } from "zod";
import { APPLICATION_VERSION, homePaths, loadConfig, type AgentSandboxMode, type HomePaths, type ModelConfig } from "../config.js";
import { connectClient, redactUrl } from "../db/connect.js";
import { EMBEDDED_PASSWORD, EMBEDDED_USER } from "../db/data-dir.js";
import { readPostmasterLock } from "../db/postmaster.js";
import { isRunning } from "../db/proc.js";
import { describeError } from "../lib/errors.js";

/** The part of the configuration the doctor uses; known even when the full configuration is invalid. */
export interface DoctorConfig {
  home: HomePaths;
  databaseUrl: string | undefined;
  applicationVersion: string;
  agentSandbox: AgentSandboxMode;
  agentTurnTimeoutMs: number;
  model: ModelConfig | undefined;
}

export type ConfigState = { ok: true; config: DoctorConfig } | { ok: false; error: string; config: DoctorConfig };

/**
 * The part of GET /api/health the doctor reads. Lenient on purpose: the server may be another
 * release than this doctor (finding that out is part of the job).
 */
const HealthAnswer = z.object({
  version: z.string(),
  worker: z.boolean(),
  database: z.string(),
  opencode: z.object({ restarts: z.number() }),
});
export type HealthAnswer = z.infer<typeof HealthAnswer>;

export interface ServerFile {
  url: string;
  pid: number;
  databaseUrl?: string;
  /** written by kodo serve since `kodo doctor` exists: the DBOS executor id of its worker */
  executorId?: string;
}

export type KodoState =
  | { state: "missing"; file: string }
  | { state: "invalid"; file: string; error: string }
  | { state: "stale"; file: string; server: ServerFile }
  | { state: "alive"; file: string; server: ServerFile; health: HealthAnswer | undefined; healthError: string | undefined };

/** One connection shared by the checks; queries take turns (a pg client runs one at a time). */
export interface DoctorDb {
  query<R extends QueryResultRow>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export type DatabaseState =
  | { kind: "connected"; db: DoctorDb; url: string; source: string; end(): Promise<void> }
  /** nothing to connect to (the embedded server is not running and no URL is configured) */
  | { kind: "absent"; reason: string }
  /** `expected`: the source says a database should answer there (false: only a stale server.json names it) */
  | { kind: "unreachable"; url: string; source: string; error: string; expected: boolean };

export const DOCTOR_TIMEOUTS = {
  /** GET /api/health of this home's kodo */
  healthMs: 5_000,
  /** connecting to Postgres; each statement */
  connectMs: 5_000,
  statementMs: 5_000,
} as const;

export interface DoctorContext {
  env: NodeJS.ProcessEnv;
  configState: ConfigState;
  config: DoctorConfig;
  stuckMinutes: number;
  ports: { kodo: number; opencode: number };
  kodo(): Promise<KodoState>;
  database(): Promise<DatabaseState>;
  /**
   * The live kodo process of this home when it runs workflows (undefined: none, or an API-only kodo).
   * A live process whose health does not answer counts as a worker: it may be one.
   */
  liveWorker(): Promise<{ pid: number; executorId: string | undefined; version: string | undefined } | undefined>;
  close(): Promise<void>;
}

function resolveConfig(env: NodeJS.ProcessEnv): ConfigState {
  try {
    return { ok: true, config: loadConfig(env) };
  } catch (error) {
    // The parts that cannot be invalid, so the other checks still look at the right home.
    const root = env["KODO_HOME"] !== undefined && env["KODO_HOME"] !== "" ? env["KODO_HOME"] : path.join(os.homedir(), ".kodo");
    const config: DoctorConfig = {
      home: homePaths(root),
      databaseUrl: env["DATABASE_URL"] !== undefined && env["DATABASE_URL"] !== "" ? env["DATABASE_URL"] : undefined,
      applicationVersion: env["KODO_APP_VERSION"] !== undefined && env["KODO_APP_VERSION"] !== "" ? env["KODO_APP_VERSION"] : APPLICATION_VERSION,
      agentSandbox: "required",
      agentTurnTimeoutMs: 30 * 60_000,
      model: undefined,
    };
    return { ok: false, error: describeError(error), config };
  }
}

function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

async function readServerFile(file: string): Promise<KodoState> {
  let raw: string;
  try {
    raw = await readFile(file, "utf8");
  } catch {
    return { state: "missing", file };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { state: "invalid", file, error: "not valid JSON" };
  }
  const record = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const { url, pid, databaseUrl, executorId } = record;
  if (typeof url !== "string" || typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0) {
    return { state: "invalid", file, error: "it names no url and pid" };
  }
  const server: ServerFile = {
    url: url.replace(/\/+$/, ""),
    pid,
    ...(typeof databaseUrl === "string" ? { databaseUrl } : {}),
    ...(typeof executorId === "string" ? { executorId } : {}),
  };
  if (!(await isRunning(pid))) return { state: "stale", file, server };
  let health: HealthAnswer | undefined;
  let healthError: string | undefined;
  try {
    const response = await fetch(`${server.url}/api/health`, { signal: AbortSignal.timeout(DOCTOR_TIMEOUTS.healthMs) });
    const body: unknown = await response.json().catch(() => undefined);
    const parsedHealth = HealthAnswer.safeParse(body);
    if (response.ok && parsedHealth.success) health = parsedHealth.data;
    else healthError = `HTTP ${response.status}${parsedHealth.success ? "" : ", not a kodo health answer"}`;
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    healthError = name === "TimeoutError" ? `no answer within ${DOCTOR_TIMEOUTS.healthMs} ms` : describeError((error as { cause?: unknown }).cause ?? error);
  }
  return { state: "alive", file, server, health, healthError };
}

/** The embedded server of this home, when its postmaster runs (kodo serve started it, or it outlived a killed kodo). */
async function embeddedUrl(home: HomePaths): Promise<{ url: string; pid: number } | undefined> {
  const lock = await readPostmasterLock(home.pgData).catch(() => undefined);
  if (lock === undefined || lock.pid <= 0 || lock.port === undefined || !(await isRunning(lock.pid))) return undefined;
  return { url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${lock.port}/kodo`, pid: lock.pid };
}

async function connectFirst(config: DoctorConfig, kodo: KodoState): Promise<DatabaseState> {
  let candidate: { url: string; source: string; expected: boolean } | undefined;
  if (kodo.state === "alive" && kodo.server.databaseUrl !== undefined) {
    candidate = { url: kodo.server.databaseUrl, source: `the running kodo (${path.basename(kodo.file)})`, expected: true };
  } else if (config.databaseUrl !== undefined) {
    candidate = { url: config.databaseUrl, source: "DATABASE_URL", expected: true };
  } else {
    const embedded = await embeddedUrl(config.home);
    if (embedded !== undefined) candidate = { url: embedded.url, source: `the embedded Postgres of this home (pid ${embedded.pid})`, expected: true };
    else if (kodo.state === "stale" && kodo.server.databaseUrl !== undefined) {
      candidate = { url: kodo.server.databaseUrl, source: `${path.basename(kodo.file)} of a kodo that is gone`, expected: false };
    }
  }
  if (candidate === undefined) {
    return {
      kind: "absent",
      reason: existsSync(config.home.pgData)
        ? `the embedded Postgres of ${config.home.root} is not running (it runs inside kodo serve) and DATABASE_URL is not set`
        : `${config.home.root} has no embedded database yet and DATABASE_URL is not set`,
    };
  }
  try {
    const client = await connectClient(candidate.url, { timeoutMs: DOCTOR_TIMEOUTS.connectMs, statementTimeoutMs: DOCTOR_TIMEOUTS.statementMs, applicationName: "kodo-doctor" });
    let turn: Promise<unknown> = Promise.resolve();
    const db: DoctorDb = {
      query: <R extends QueryResultRow>(sql: string, params: readonly unknown[] = []) => {
        const result = turn.then(() => client.query<R>(sql, [...params]));
        turn = result.catch(() => undefined);
        return result;
      },
    };
    return { kind: "connected", db, url: redactUrl(candidate.url), source: candidate.source, end: () => client.end() };
  } catch (error) {
    return { kind: "unreachable", url: redactUrl(candidate.url), source: candidate.source, error: describeError(error), expected: candidate.expected };
  }
}

export function createContext(options: { env: NodeJS.ProcessEnv; stuckMinutes: number; ports: { kodo: number; opencode: number } }): DoctorContext {
  const configState = resolveConfig(options.env);
  const { config } = configState;
  const kodo = memo(() => readServerFile(config.home.serverFile));
  let connecting: Promise<DatabaseState> | undefined;
  const database = (): Promise<DatabaseState> => (connecting ??= kodo().then((state) => connectFirst(config, state)));
  return {
    env: options.env,
    configState,
    config,
    stuckMinutes: options.stuckMinutes,
    ports: options.ports,
    kodo,
    database,
    liveWorker: async () => {
      const state = await kodo();
      if (state.state !== "alive" || state.health?.worker === false) return undefined;
      return { pid: state.server.pid, executorId: state.server.executorId, version: state.health?.version };
    },
    close: async () => {
      if (connecting === undefined) return;
      // a connection still being made (a check ran out of time) is bounded by its own connect timeout
      const state = await Promise.race([connecting, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), DOCTOR_TIMEOUTS.connectMs + 1_000).unref())]);
      if (state?.kind !== "connected") return;
      await Promise.race([state.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    },
  };
}
