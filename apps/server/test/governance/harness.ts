/**
 * The real HTTP app in process (app.request, no port) over a real Postgres, with the real
 * services and a DBOS RunControl (no worker: an enqueued run waits, which is all plan decisions need).
 */
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { createApp } from "../../src/http/app.js";
import { seededRandom, systemClock } from "../../src/lib/ports.js";
import { EventHub } from "../../src/service/event-hub.js";
import { GovernanceService } from "../../src/service/governance-service.js";
import { KodoService } from "../../src/service/kodo-service.js";
import { migrateSystemDatabase, RunControl } from "../../src/workflow/runtime.js";
import { startTestDatabase } from "../support/database.js";

export interface Answer<T> {
  status: number;
  /** the parsed JSON body, typed as the caller expects it (an error body on failure) */
  body: T;
}

export interface Harness {
  db: Awaited<ReturnType<typeof startTestDatabase>>;
  app: OpenAPIHono;
  service: KodoService;
  control: RunControl;
  /** a request to the app; `actor` goes in X-Kodo-Actor */
  call<T = unknown>(method: string, route: string, body?: unknown, actor?: string): Promise<Answer<T>>;
  /** a fresh git repository (its root) */
  repo(): Promise<string>;
  /** how many events of these types are in the log */
  events(...types: string[]): Promise<number>;
  close(): Promise<void>;
}

export async function startHarness(seed: string): Promise<Harness> {
  const db = await startTestDatabase();
  const logFile = path.join(db.dir, "dbos.log");
  await migrateSystemDatabase(db.url, logFile);
  const control = await RunControl.create(db.url, "kodo-test", logFile);
  const random = seededRandom(seed);
  const service = new KodoService({ pool: db.pool, control, clock: systemClock, random });
  const governance = new GovernanceService({ pool: db.pool, clock: systemClock, random });
  const app = createApp({
    service,
    governance,
    pool: db.pool,
    hub: new EventHub(db.pool, db.url),
    health: async () => ({ ok: true, version: "test", database: "embedded", opencode: { url: null, restarts: 0, healthy: false, sandboxed: false }, worker: false }),
  });
  return {
    db,
    app,
    service,
    control,
    call: async <T>(method: string, route: string, body?: unknown, actor?: string): Promise<Answer<T>> => {
      const response = await app.request(route, {
        method,
        headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(actor === undefined ? {} : { "x-kodo-actor": actor }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as T };
    },
    repo: async () => createSampleRepo(await mkdtemp(path.join(db.dir, "repo-"))),
    events: async (...types) => Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM kodo.events WHERE type = ANY($1)`, [types])).rows[0]?.n ?? 0),
    close: async () => {
      await control.close();
      await db.close();
    },
  };
}
