import { mkdir, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import type { KodoConfig } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { resolvePostgresDir } from "./db/home-location.js";
import { KodoError } from "./lib/errors.js";
import { createRandom, systemClock, type Clock, type Random } from "./lib/ports.js";
import { ModelLedger, costOf } from "./model/ledger.js";
import { createBudgetGate } from "./budget/gate.js";
import { createApp } from "./http/app.js";
import { ensureToken, loopbackHosts } from "./http/auth.js";
import { isStudioPath, STUDIO_DIST } from "./http/studio.js";
import { ActivityRecorder } from "./service/activity-recorder.js";
import { EventHub } from "./service/event-hub.js";
import { KodoService } from "./service/kodo-service.js";
import { GovernanceService } from "./service/governance-service.js";
import { startOpenCodeServer, type OpenCodeServer } from "./agent/server-supervisor.js";
import { chooseAgentSandbox, describeAgentSandbox } from "./agent/agent-sandbox.js";
import { createOpenCodeRuntime } from "./agent/runtime.js";
import { PermissionBridge } from "./agent/permission-bridge.js";
import { createPolicyDecider } from "./governance/permission-decider.js";
import { provideStepServices } from "./workflow/steps/services.js";
import { launchWorker, migrateSystemDatabase, RunControl, shutdownWorker } from "./workflow/runtime.js";
import { reconcileRuns } from "./service/reconcile.js";
import { writeRunEvidence } from "./evidence/run-evidence.js";

export interface StartOptions {
  config: KodoConfig;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** run workflows in this process (default true); false = API only, runs are served by other workers */
  worker?: boolean;
  /** a stable executor id: a restarted worker with the same id recovers its own pending runs */
  executorId?: string;
  clock?: Clock;
  random?: Random;
  log?: (line: string) => void;
  /**
   * Paths the agent may read in its sandbox although they are hidden (inside the kodo home, or
   * /tmp), e.g. the demo's sample checkouts: OpenCode knows a worktree as a git project only when
   * it can read the repository the worktree belongs to.
   */
  agentReadOnly?: string[];
}

export interface Kodo {
  url: string;
  /** Studio, the web board, with the API token in the fragment (`/#token=…`, never sent to a server): for the person running kodo only */
  studioUrl: string;
  port: number;
  database: Database;
  service: KodoService;
  opencode: OpenCodeServer | undefined;
  /** how long each part of the start took, in ms (for `bench/` and `kodo serve --json`) */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

const SYSTEM_MIGRATION_LOCK = 0x6b6f646e;

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "::1";
}

/**
 * Starts one kodo process: database (embedded unless DATABASE_URL), schema and DBOS migrations
 * (once, under a lock), the OpenCode server and the DBOS worker (unless `worker: false`), the
 * event hub and the HTTP API. `stop()` ends everything it started, in reverse order.
 */
export async function startKodo(options: StartOptions): Promise<Kodo> {
  const { config } = options;
  const log = options.log ?? (() => undefined);
  const host = options.host ?? "127.0.0.1";
  const worker = options.worker ?? true;
  const executorId = options.executorId ?? process.env["KODO_EXECUTOR_ID"] ?? "kodo-local";
  const clock = options.clock ?? systemClock;
  const random = options.random ?? createRandom(config.randomSeed);
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log(`stop: ${String(error)}`));
    stops.length = 0;
  };

  const timings: Record<string, number> = {};
  let mark = performance.now();
  const lap = (part: string): void => {
    const now = performance.now();
    timings[part] = Math.round(now - mark);
    mark = now;
  };
  const started = performance.now();
  try {
    await mkdir(config.home.logs, { recursive: true });
    // The API token exists before anything listens; a token file readable by others stops the start.
    const token = await ensureToken(config.home.tokenFile);
    const pgDir = config.databaseUrl === undefined ? await resolvePostgresDir(path.dirname(config.home.pgData)) : path.dirname(config.home.pgData);
    const database = await openDatabase({
      ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
      dataDir: path.join(pgDir, path.basename(config.home.pgData)),
      logFile: path.join(pgDir, path.basename(config.home.pgLog)),
    });
    stops.push(() => database.close());
    log(`database ready (${database.embedded === undefined ? "external" : "embedded"})`);
    lap("postgres");

    await migrateSystemOnce(database, path.join(config.home.logs, "dbos.log"));
    const control = await RunControl.create(database.url, config.applicationVersion, path.join(config.home.logs, "dbos.log"));
    stops.push(() => control.close());
    lap("dbosMigrate");

    let opencode: OpenCodeServer | undefined;
    let onCancel: ((runId: string) => Promise<void>) | undefined;
    let bridge: PermissionBridge | undefined;
    if (worker) {
      if (config.model === undefined) {
        throw new KodoError(
          "CONFIG_INVALID",
          "no model is configured: set KODO_MODEL_BASE_URL, KODO_MODEL_API_KEY and KODO_MODEL (any OpenAI-compatible endpoint), or run `kodo model serve --script FILE` and point KODO_MODEL_BASE_URL at it",
        );
      }
      const recorder = new ActivityRecorder(database.pool);
      // In the agent sandbox the agent writes below the worktrees root only; the rest of the home
      // (token, server.json, runs, logs) and Postgres's data are hidden from it.
      const worktreesRoot = path.join(config.home.root, "worktrees");
      await mkdir(worktreesRoot, { recursive: true });
      const sandbox = await chooseAgentSandbox(
        config.agentSandbox,
        { writable: [worktreesRoot], readOnly: options.agentReadOnly ?? [], masked: [config.home.root, pgDir] },
        log,
      );
      opencode = await startOpenCodeServer({
        stateDir: config.home.opencode,
        model: { baseUrl: config.model.baseUrl, apiKey: config.model.apiKey, model: config.model.model },
        logFile: path.join(config.home.logs, "opencode.log"),
        http: config.httpTimeouts,
        onEvent: (event) => recorder.record(event),
        onRestart: (info) => log(`opencode restarted (${info.restarts}) at ${info.url}`),
        ...(sandbox === undefined ? {} : { sandbox }),
      });
      const server = opencode;
      stops.push(async () => {
        await recorder.flush();
        await server.stop();
      });
      log(`opencode ready at ${server.url}, agent ${describeAgentSandbox(server.sandbox)}`);
      lap("opencode");
      // Every ask of the agent is answered: by the policy, or by a person within a deadline.
      const approvals = await PermissionBridge.start({
        server,
        pool: database.pool,
        clock,
        random,
        timeoutSeconds: config.approvalTimeoutSeconds,
        // the run's policy answers every ask; only a policy `ask` waits for a person
        decide: createPolicyDecider(database.pool, { askPermissions: config.askPermissions }),
        log,
      });
      bridge = approvals;
      stops.push(() => approvals.stop());
      const runtime = createOpenCodeRuntime(server, { waitingForHuman: (sessionId) => approvals.hasPending(sessionId), askPermissions: config.askPermissions });
      recorder.reconcileWith((sessionId, directory) => runtime.messages({ sessionId, directory }));
      const modelCost = config.model.cost;
      const ledger = new ModelLedger(database.pool, runtime, {
        clock,
        cost: config.model.cost,
        stallMs: config.agentStallMs,
        timeoutMs: config.agentTurnTimeoutMs,
        stopping: () => stopping,
        gate: createBudgetGate({ pool: database.pool, clock, price: (tokens) => costOf(tokens, modelCost) }),
      });
      provideStepServices({ pool: database.pool, config, agent: runtime, ledger, clock, random, worktreesRoot });
      onCancel = async (runId) => {
        const sessions = await database.pool.query<{ session_id: string; directory: string }>(
          `SELECT session_id, directory FROM kodo.sessions WHERE run_id = $1`,
          [runId],
        );
        for (const row of sessions.rows) {
          await runtime.abort({ sessionId: row.session_id, directory: row.directory }).catch(() => undefined);
        }
      };
      await launchWorker({
        systemDatabaseUrl: database.url,
        applicationVersion: config.applicationVersion,
        executorId,
        concurrency: 4,
        logFile: path.join(config.home.logs, "dbos.log"),
      });
      stops.push(async () => {
        await shutdownWorker();
        provideStepServices(undefined);
      });
      lap("dbosLaunch");
      const report = await reconcileRuns(database.pool, control, clock, (runId) =>
        writeRunEvidence({ pool: database.pool, runsDir: config.home.runs, runId, now: clock.now() }),
      );
      for (const line of report) log(line);
    }

    const hub = new EventHub(database.pool, database.url);
    await hub.start();
    stops.push(() => hub.close());

    if (onCancel !== undefined) {
      // A cancel can be requested through any API process: the worker hears it from the event log
      // and aborts the agent sessions of the run (aborting is idempotent).
      const abortSessions = onCancel;
      hub.subscribe((stored) => {
        if (stored.event.type === "run.cancel_requested") void abortSessions(stored.event.runId).catch(() => undefined);
      });
    }
    if (bridge !== undefined) {
      // An answer can be given through any API process: the worker's bridge delivers it to OpenCode.
      const approvals = bridge;
      hub.subscribe((stored) => {
        if (stored.event.type === "approval.answered") approvals.answered();
      });
    }
    const service = new KodoService({
      pool: database.pool,
      control,
      clock,
      random,
      ...(onCancel === undefined ? {} : { onCancel }),
      writeEvidence: (runId) => writeRunEvidence({ pool: database.pool, runsDir: config.home.runs, runId, now: clock.now() }),
    });
    const server = opencode;
    let allowedHosts: ReadonlySet<string> = new Set();
    const app = createApp({
      // the board's static shell holds no data: no token for it (the Host and Origin checks still hold)
      auth: { token, allowedHosts: () => allowedHosts, open: new Set(["/api/health"]), openWhen: isStudioPath },
      studioDir: STUDIO_DIST,
      service,
      governance: new GovernanceService({ pool: database.pool, clock, random }),
      pool: database.pool,
      hub,
      health: async () => ({
        ok: true,
        version: config.applicationVersion,
        database: database.embedded === undefined ? "external" : "embedded",
        opencode: { url: server?.url ?? null, restarts: server?.restarts ?? 0, healthy: server !== undefined, sandboxed: server?.sandboxed ?? false },
        worker,
      }),
    });
    const { httpServer, port } = await listen(app.fetch, host, options.port ?? 7433);
    allowedHosts = loopbackHosts(port, [...config.allowedHosts, ...(isLoopback(host) ? [] : [host.includes(":") ? `[${host}]` : host])]);
    stops.push(() => closeServer(httpServer));
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

    await writeFile(config.home.serverFile, `${JSON.stringify({ url, pid: process.pid, databaseUrl: database.url, ...(worker ? { executorId } : {}) }, null, 2)}\n`, { mode: 0o600 });
    stops.push(() => rm(config.home.serverFile, { force: true }));
    lap("http");
    timings["total"] = Math.round(performance.now() - started);
    log(`kodo listening on ${url}`);

    // First thing on stop: agent calls cut off from here on are interruptions, not failures.
    stops.push(async () => {
      stopping = true;
    });
    let stopped: Promise<void> | undefined;
    return {
      url,
      studioUrl: `${url}/#token=${token}`,
      port,
      database,
      service,
      opencode,
      timings,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function migrateSystemOnce(database: Database, logFile: string): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query(`SELECT pg_advisory_lock($1)`, [SYSTEM_MIGRATION_LOCK]);
    await migrateSystemDatabase(database.url, logFile);
  } finally {
    await client.query(`SELECT pg_advisory_unlock($1)`, [SYSTEM_MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

function listen(fetch: (request: Request) => Response | Promise<Response>, host: string, port: number): Promise<{ httpServer: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const httpServer = serve({ fetch, hostname: host, port }, (info: AddressInfo) => resolve({ httpServer, port: info.port }));
    httpServer.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new KodoError("CONFIG_INVALID", `port ${port} on ${host} is in use: pick another with --port (0 picks a free one)`)
          : error,
      );
    });
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    if ("closeAllConnections" in server && typeof server.closeAllConnections === "function") server.closeAllConnections();
  });
}

