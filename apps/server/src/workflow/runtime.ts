import { DBOS, DBOSClient } from "@dbos-inc/dbos-sdk";
import type { DLogger } from "@dbos-inc/dbos-sdk";
import type { PoolClient } from "pg";
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { PLAN_DECISION_TOPIC, runTaskWorkflow } from "./run-task.js";

export const RUN_QUEUE = "kodo-runs";
export const WORKFLOW_NAME = "RunTask";
export const DBOS_APP_NAME = "kodo";

/**
 * The system database URL as DBOS gets it: the idle-in-transaction bound is set by the server at
 * connect (DBOS's own per-connection SET races the first query and trips a pg deprecation).
 */
export function systemDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("options")) parsed.searchParams.set("options", "-c idle_in_transaction_session_timeout=60000");
  return parsed.toString();
}

/** DBOS's own log goes to a file under the kodo home, never to the user's terminal. */
export function fileLogger(file: string): DLogger {
  mkdirSync(path.dirname(file), { recursive: true });
  const write = (level: string, entry: unknown): void => {
    const text = entry instanceof Error ? `${entry.message}\n${entry.stack ?? ""}` : typeof entry === "string" ? entry : JSON.stringify(entry);
    try {
      appendFileSync(file, `${new Date().toISOString()} ${level} ${text}\n`);
    } catch {
      // logging must never take the process down
    }
  };
  return {
    info: (entry) => write("info", entry),
    debug: () => undefined,
    warn: (entry) => write("warn", entry),
    error: (entry) => write("error", entry),
  };
}

/**
 * Creates or migrates DBOS's system schema. Run once, before any process launches workflows.
 * DBOS.migrate logs to the console with its own logger; its lines go to kodo's log file instead.
 */
export async function migrateSystemDatabase(url: string, logFile: string): Promise<void> {
  const logger = fileLogger(logFile);
  const saved = { info: console.info, log: console.log, warn: console.warn, debug: console.debug };
  console.info = console.log = console.debug = (...args: unknown[]) => logger.info(args.map(String).join(" "));
  console.warn = (...args: unknown[]) => logger.warn(args.map(String).join(" "));
  try {
    await DBOS.migrate(url);
  } finally {
    Object.assign(console, saved);
  }
}

export interface WorkerOptions {
  systemDatabaseUrl: string;
  applicationVersion: string;
  /** a stable id per worker: a restarted worker with the same id recovers its own pending runs */
  executorId: string;
  concurrency: number;
  logFile: string;
}

/** Launches DBOS in this process as a worker of the run queue (steps must be provided first). */
export async function launchWorker(options: WorkerOptions): Promise<void> {
  void runTaskWorkflow; // registered on import; referenced so the import is never elided
  DBOS.setConfig({
    name: DBOS_APP_NAME,
    systemDatabaseUrl: systemDatabaseUrl(options.systemDatabaseUrl),
    systemDatabaseIdleTransactionTimeoutMs: 0,
    applicationVersion: options.applicationVersion,
    executorID: options.executorId,
    runMigrations: false,
    logger: fileLogger(options.logFile),
    listenQueues: [RUN_QUEUE],
  });
  await DBOS.launch();
  // Queues are persisted in the system database, so they are registered once DBOS is up; the
  // worker listens to the name from launch on.
  await DBOS.registerQueue(RUN_QUEUE, { workerConcurrency: options.concurrency, minPollingIntervalMs: 50, onConflict: "always_update" });
}

export async function shutdownWorker(): Promise<void> {
  if (DBOS.isInitialized()) await DBOS.shutdown();
}

/**
 * The control side (any process, no workflow code needed): start runs, deliver plan decisions,
 * cancel. Enqueue and send take the caller's transaction, so kodo's rows and DBOS's commit together.
 */
export class RunControl {
  readonly #client: DBOSClient;
  readonly #applicationVersion: string;

  private constructor(client: DBOSClient, applicationVersion: string) {
    this.#client = client;
    this.#applicationVersion = applicationVersion;
  }

  static async create(systemDatabaseUrl_: string, applicationVersion: string, logFile: string): Promise<RunControl> {
    const client = await DBOSClient.create({ systemDatabaseUrl: systemDatabaseUrl(systemDatabaseUrl_), systemDatabaseIdleTransactionTimeoutMs: 0, applicationName: DBOS_APP_NAME, logger: fileLogger(logFile), systemDatabasePoolSize: 4 });
    return new RunControl(client, applicationVersion);
  }

  async enqueueRun(tx: PoolClient, runId: string): Promise<void> {
    await this.#client.enqueueInTransaction<(runId: string) => Promise<unknown>>(
      tx,
      { queueName: RUN_QUEUE, workflowName: WORKFLOW_NAME, workflowID: runId, appVersion: this.#applicationVersion },
      runId,
    );
  }

  async sendPlanDecision(tx: PoolClient, runId: string): Promise<void> {
    await this.#client.sendInTransaction(tx, runId, { runId }, PLAN_DECISION_TOPIC, `plan-decision:${runId}`);
  }

  async cancel(runId: string): Promise<void> {
    await this.#client.cancelWorkflow(runId);
  }

  async workflowStatus(runId: string): Promise<string | undefined> {
    return (await this.#client.getWorkflow(runId))?.status;
  }

  async resume(runIds: string[]): Promise<void> {
    if (runIds.length > 0) await this.#client.resumeWorkflows(runIds);
  }

  async close(): Promise<void> {
    await this.#client.destroy();
  }
}
