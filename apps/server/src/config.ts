import os from "node:os";
import path from "node:path";
import { KodoError } from "./lib/errors.js";
import { KNOWN_PERMISSIONS } from "./agent/permissions.js";
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from "./agent/http.js";

/** Where kodo keeps everything it owns. One home per installation (or per test). */
export interface HomePaths {
  root: string;
  /** embedded Postgres data directory */
  pgData: string;
  /** embedded Postgres log file */
  pgLog: string;
  /** OpenCode's XDG state dirs and pidfile live below this */
  opencode: string;
  /** run artifacts: runs/<runId>/… */
  runs: string;
  logs: string;
  /** written by `kodo serve`: how a CLI finds the running server */
  serverFile: string;
  /** the API token (0600) */
  tokenFile: string;
}

export function homePaths(root: string): HomePaths {
  const abs = path.resolve(root);
  return {
    root: abs,
    pgData: path.join(abs, "pg", "data"),
    pgLog: path.join(abs, "pg", "postgres.log"),
    opencode: path.join(abs, "opencode"),
    runs: path.join(abs, "runs"),
    logs: path.join(abs, "logs"),
    serverFile: path.join(abs, "server.json"),
    tokenFile: path.join(abs, "token"),
  };
}

/** The model endpoint every agent call goes to (any OpenAI-compatible chat-completions API). */
export interface ModelConfig {
  baseUrl: string;
  apiKey: string;
  /** model id as the endpoint knows it */
  model: string;
  /** USD per million tokens, for the ledger's cost column */
  cost: { input: number; output: number; cacheRead: number; cacheWrite: number };
}

export interface KodoConfig {
  home: HomePaths;
  /** external Postgres; when undefined kodo starts its embedded one */
  databaseUrl: string | undefined;
  model: ModelConfig | undefined;
  /** no agent progress for this long → abort, AGENT_STALLED */
  agentStallMs: number;
  /** overall deadline of one agent turn */
  agentTurnTimeoutMs: number;
  /** seed of the Random port; undefined → seeded from the run id */
  randomSeed: string | undefined;
  /** one explicit DBOS application version per release, shared by every process */
  applicationVersion: string;
  /** attempts CompilePlan makes when the plan is not valid JSON of the plan schema */
  planAttempts: number;
  /** extra Host names the API answers to (besides the loopback names), e.g. for a non-loopback bind */
  allowedHosts: string[];
  /** KODO_AGENT_SANDBOX: OpenCode and the agent's commands in bubblewrap — always (default), when it works, or never */
  agentSandbox: AgentSandboxMode;
  /** how long an agent's ask waits for a person before the bridge rejects it (a task may set its own) */
  approvalTimeoutSeconds: number;
  /** ask a human for these OpenCode permissions: where the agent's rules allow one, it asks instead */
  askPermissions: string[];
  /**
   * Bounds of kodo's HTTP calls to the OpenCode server (KODO_HTTP_CONNECT_TIMEOUT_MS,
   * KODO_HTTP_READ_TIMEOUT_MS): connect, and headers + body of a call that sets no bound of its own.
   * An agent turn is bounded by agentTurnTimeoutMs and agentStallMs instead.
   */
  httpTimeouts: HttpTimeouts;
}

export const APPLICATION_VERSION = "kodo-0.1.0";

/** `required`: refuse to start a worker without the agent sandbox; `auto`: use it when bubblewrap works, warn loudly otherwise; `off`: never. */
export const AGENT_SANDBOX_MODES = ["required", "auto", "off"] as const;
export type AgentSandboxMode = (typeof AGENT_SANDBOX_MODES)[number];

function agentSandboxFromEnv(env: NodeJS.ProcessEnv): AgentSandboxMode {
  const raw = (env["KODO_AGENT_SANDBOX"] ?? "").trim().toLowerCase();
  if (raw === "") return "required";
  const mode = AGENT_SANDBOX_MODES.find((candidate) => candidate === raw);
  if (mode === undefined) {
    throw new KodoError("CONFIG_INVALID", `KODO_AGENT_SANDBOX must be one of ${AGENT_SANDBOX_MODES.join(", ")}, got ${JSON.stringify(env["KODO_AGENT_SANDBOX"])}`);
  }
  return mode;
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new KodoError("CONFIG_INVALID", `${name} must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function costFromEnv(env: NodeJS.ProcessEnv): ModelConfig["cost"] {
  const zero = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  const raw = env["KODO_MODEL_COST"];
  if (raw === undefined || raw === "") return zero;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new KodoError("CONFIG_INVALID", "KODO_MODEL_COST must be JSON like {\"input\":3,\"output\":15} (USD per million tokens)");
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new KodoError("CONFIG_INVALID", "KODO_MODEL_COST must be a JSON object");
  }
  const record = parsed as Record<string, unknown>;
  const pick = (key: keyof typeof zero): number => {
    const value = record[key];
    if (value === undefined) return 0;
    if (typeof value !== "number" || value < 0) {
      throw new KodoError("CONFIG_INVALID", `KODO_MODEL_COST.${key} must be a non-negative number`);
    }
    return value;
  };
  return { input: pick("input"), output: pick("output"), cacheRead: pick("cacheRead"), cacheWrite: pick("cacheWrite") };
}

export function modelFromEnv(env: NodeJS.ProcessEnv): ModelConfig | undefined {
  const baseUrl = env["KODO_MODEL_BASE_URL"];
  if (baseUrl === undefined || baseUrl === "") return undefined;
  try {
    new URL(baseUrl);
  } catch {
    throw new KodoError("CONFIG_INVALID", `KODO_MODEL_BASE_URL is not a URL: ${baseUrl}`);
  }
  const model = env["KODO_MODEL"];
  if (model === undefined || model === "") {
    throw new KodoError("CONFIG_INVALID", "KODO_MODEL must name the model id when KODO_MODEL_BASE_URL is set");
  }
  return { baseUrl, apiKey: env["KODO_MODEL_API_KEY"] ?? "", model, cost: costFromEnv(env) };
}

function permissionsFromEnv(env: NodeJS.ProcessEnv, name: string): string[] {
  const names = (env[name] ?? "").split(",").map((permission) => permission.trim()).filter((permission) => permission !== "");
  const known: ReadonlySet<string> = new Set(KNOWN_PERMISSIONS);
  const unknown = names.filter((permission) => !known.has(permission));
  if (unknown.length > 0) {
    throw new KodoError("CONFIG_INVALID", `${name} names unknown OpenCode permissions (${unknown.join(", ")}); known: ${KNOWN_PERMISSIONS.join(", ")}`);
  }
  return [...new Set(names)];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KodoConfig {
  const home = env["KODO_HOME"] && env["KODO_HOME"] !== "" ? env["KODO_HOME"] : path.join(os.homedir(), ".kodo");
  return {
    home: homePaths(home),
    databaseUrl: env["DATABASE_URL"] && env["DATABASE_URL"] !== "" ? env["DATABASE_URL"] : undefined,
    model: modelFromEnv(env),
    agentStallMs: numberFromEnv(env, "KODO_AGENT_STALL_MS", 120_000),
    agentTurnTimeoutMs: numberFromEnv(env, "KODO_AGENT_TURN_TIMEOUT_MS", 30 * 60_000),
    randomSeed: env["KODO_RANDOM_SEED"] && env["KODO_RANDOM_SEED"] !== "" ? env["KODO_RANDOM_SEED"] : undefined,
    applicationVersion: env["KODO_APP_VERSION"] && env["KODO_APP_VERSION"] !== "" ? env["KODO_APP_VERSION"] : APPLICATION_VERSION,
    planAttempts: numberFromEnv(env, "KODO_PLAN_ATTEMPTS", 3),
    allowedHosts: (env["KODO_ALLOWED_HOSTS"] ?? "").split(",").map((name) => name.trim()).filter((name) => name !== ""),
    agentSandbox: agentSandboxFromEnv(env),
    approvalTimeoutSeconds: numberFromEnv(env, "KODO_APPROVAL_TIMEOUT_SECONDS", 900),
    askPermissions: permissionsFromEnv(env, "KODO_ASK_PERMISSIONS"),
    httpTimeouts: {
      connectMs: numberFromEnv(env, "KODO_HTTP_CONNECT_TIMEOUT_MS", DEFAULT_HTTP_TIMEOUTS.connectMs),
      requestMs: numberFromEnv(env, "KODO_HTTP_READ_TIMEOUT_MS", DEFAULT_HTTP_TIMEOUTS.requestMs),
    },
  };
}
