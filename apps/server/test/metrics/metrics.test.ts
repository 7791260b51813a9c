/**
 * GET /metrics through the real app (createApp with the auth kodo serve uses) over a real Postgres
 * with DBOS's system schema: runs, ledger rows, verification attempts, approvals and queued
 * workflows are written the way kodo writes them, then the exposition is parsed and every value
 * checked. The queries are shown to be served by indexes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { PoolClient } from "pg";
import type { TaskStatus } from "@kodo/contracts";
import { withTransaction, type Database } from "../../src/db/database.js";
import { createApp } from "../../src/http/app.js";
import { loopbackHosts } from "../../src/http/auth.js";
import { isStudioPath } from "../../src/http/studio.js";
import { seededRandom, systemClock, fixedClock, newId } from "../../src/lib/ports.js";
import { MODEL_CALL_DURATION_BOUNDS, RUN_DURATION_BOUNDS, VERIFY_DURATION_BOUNDS } from "../../src/metrics/collect.js";
import { approvalTotals, modelCallTotals, queueTotals, runTotals, verifyTotals } from "../../src/metrics/queries.js";
import { EventHub } from "../../src/service/event-hub.js";
import { GovernanceService } from "../../src/service/governance-service.js";
import { KodoService } from "../../src/service/kodo-service.js";
import { changeRunStatus, insertRun } from "../../src/store/runs.js";
import { insertTask } from "../../src/store/tasks.js";
import { migrateSystemDatabase, RunControl, RUN_QUEUE } from "../../src/workflow/runtime.js";
import { startTestDatabase } from "../support/database.js";
import { parseExposition } from "./exposition-parser.js";

const TOKEN = "a".repeat(64);
const HOST = "127.0.0.1:7433";
const BASE = new Date("2026-02-01T10:00:00.000Z");
const random = seededRandom("metrics");

let db: Database & { dir: string };
let control: RunControl;
let app: OpenAPIHono;
let restarts = 3;

function at(seconds: number): Date {
  return new Date(BASE.getTime() + seconds * 1000);
}

/** A task and its run, moved through `path` (status, seconds after BASE), as the workflow's steps do. */
async function run(steps: ReadonlyArray<readonly [TaskStatus, number]>, enqueue = false): Promise<string> {
  const clock = fixedClock(BASE);
  const taskId = newId("tsk", clock, random);
  const runId = newId("run", clock, random);
  await withTransaction(db.pool, async (tx) => {
    await insertTask(tx, { id: taskId, title: "t", prompt: "p", repoPath: "/tmp/repo", baseRef: "HEAD", options: { planApproval: "manual" }, at: BASE });
    await insertRun(tx, { id: runId, taskId, at: BASE });
    if (enqueue) await control.enqueueRun(tx, runId);
  });
  for (const [to, seconds] of steps) {
    await withTransaction(db.pool, (tx) => changeRunStatus(tx, { runId, to, reason: null, at: at(seconds) }));
  }
  return runId;
}

async function modelCall(runId: string, call: { agent: string; step: string; status: string; input: number; output: number; cost: string; ms: number | null }): Promise<void> {
  const task = await db.pool.query<{ task_id: string }>(`SELECT task_id FROM kodo.runs WHERE id = $1`, [runId]);
  await db.pool.query(
    `INSERT INTO kodo.model_calls (op_key, run_id, task_id, step_id, attempt, agent, status, request, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, cost_usd, duration_ms)
     VALUES ($1, $2, $3, $4, 1, $5, $6, '{}'::jsonb, $7, $8, 1, 10, $9, $10)`,
    [random.token(16), runId, task.rows[0]?.task_id, call.step, call.agent, call.status, call.input, call.output, call.cost, call.ms],
  );
}

async function approval(runId: string, status: "pending" | "answered", deadlineSecondsFromNow: number): Promise<void> {
  const task = await db.pool.query<{ task_id: string }>(`SELECT task_id FROM kodo.runs WHERE id = $1`, [runId]);
  await db.pool.query(
    `INSERT INTO kodo.approvals (id, run_id, task_id, session_id, kind, opencode_request_id, permission, status, decision, server_instance, created_at, deadline_at)
     VALUES ($1, $2, $3, 'ses_x', 'permission', $4, 'bash', $5, $6, 'host:/h#t:1', now() - interval '1 hour', now() + make_interval(secs => $7))`,
    [newId("apr", systemClock, random), runId, task.rows[0]?.task_id, `per_${random.token(8)}`, status, status === "pending" ? null : "once", deadlineSecondsFromNow],
  );
}

async function scrape(headers: Record<string, string> = { host: HOST, authorization: `Bearer ${TOKEN}` }): Promise<Response> {
  return app.request("/metrics", { headers });
}

beforeAll(async () => {
  db = await startTestDatabase();
  const logFile = path.join(db.dir, "dbos.log");
  await migrateSystemDatabase(db.url, logFile);
  control = await RunControl.create(db.url, "kodo-test", logFile);
  const service = new KodoService({ pool: db.pool, control, clock: systemClock, random });
  app = createApp({
    // the options kodo serve gives createApp (kodo.ts)
    auth: { token: TOKEN, allowedHosts: () => loopbackHosts(7433), open: new Set(["/api/health"]), openWhen: isStudioPath },
    service,
    governance: new GovernanceService({ pool: db.pool, clock: systemClock, random }),
    pool: db.pool,
    hub: new EventHub(db.pool, db.url),
    health: async () => ({ ok: true, version: "kodo-test", database: "embedded", opencode: { url: "http://127.0.0.1:1", restarts, healthy: true, sandboxed: true }, worker: true }),
  });

  // finished: Done in 120 s and in 3600 s, Failed after 30 s, Rejected after 400 s
  const done = await run([["Planning", 1], ["PlanningReview", 20], ["InProgress", 60], ["AiReview", 100], ["Done", 120]]);
  await run([["Planning", 1], ["PlanningReview", 20], ["InProgress", 600], ["AiReview", 3000], ["Done", 3600]]);
  await run([["Planning", 1], ["Failed", 30]]);
  await run([["Planning", 1], ["PlanningReview", 20], ["Rejected", 400]]);
  // in flight: one waiting for its plan decision, one building; two more only queued
  const review = await run([["Planning", 1], ["PlanningReview", 20]], true);
  const building = await run([["Planning", 1], ["PlanningReview", 20], ["InProgress", 30]], true);
  await run([], true);
  await run([], true);
  // a worker took the first two off the queue (DBOS marks them PENDING)
  await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING' WHERE workflow_uuid = ANY($1)`, [[review, building]]);

  await modelCall(done, { agent: "plan", step: "CompilePlan", status: "completed", input: 1000, output: 200, cost: "0.012500", ms: 4_000 });
  await modelCall(done, { agent: "build", step: "Build", status: "completed", input: 3000, output: 900, cost: "0.030000", ms: 45_000 });
  await modelCall(done, { agent: "build", step: "Build", status: "interrupted", input: 0, output: 0, cost: "0", ms: null });
  await modelCall(building, { agent: "build", step: "Build", status: "completed", input: 500, output: 100, cost: "0.002500", ms: 400_000 });
  await modelCall(building, { agent: "build", step: "Build", status: "pending", input: 0, output: 0, cost: "0", ms: null });

  await db.pool.query(
    `INSERT INTO kodo.test_runs (run_id, attempt, class, reason, duration_ms, result) VALUES ($1, 1, 'TEST_FAILURE', 'r', 2500, '{}'), ($1, 2, 'PASSED', 'r', 8000, '{}')`,
    [done],
  );
  await approval(building, "pending", 600);
  await approval(building, "pending", -30);
  await approval(review, "answered", -3000);
  await db.pool.query("VACUUM ANALYZE");
});

afterAll(async () => {
  await control?.close();
  await db?.close();
});

describe("GET /metrics", () => {
  it("needs the bearer token, like /api", async () => {
    expect((await scrape({ host: HOST })).status).toBe(401);
    expect((await scrape({ host: HOST, authorization: `Bearer ${"b".repeat(64)}` })).status).toBe(401);
    expect((await scrape({ host: "evil.example:7433", authorization: `Bearer ${TOKEN}` })).status).toBe(403);
    const response = await scrape();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("reports runs, durations, the ledger, verification, the queue, approvals and the process", async () => {
    const metrics = parseExposition(await (await scrape()).text());
    const value = (name: string, labels: Record<string, string> = {}): number | undefined => metrics.value(name, labels);

    expect(metrics.types.get("kodo_runs")).toBe("gauge");
    expect(Object.fromEntries(["Todo", "Planning", "PlanningReview", "InProgress", "AiReview", "Done", "Failed", "Rejected", "Cancelled"].map((status) => [status, value("kodo_runs", { status })]))).toEqual({
      Todo: 2, Planning: 0, PlanningReview: 1, InProgress: 1, AiReview: 0, Done: 2, Failed: 1, Rejected: 1, Cancelled: 0,
    });

    expect(metrics.types.get("kodo_run_duration_seconds")).toBe("histogram");
    expect(value("kodo_run_duration_seconds_count", { status: "Done" })).toBe(2);
    expect(value("kodo_run_duration_seconds_sum", { status: "Done" })).toBe(3720);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Done", le: "60" })).toBe(0);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Done", le: "300" })).toBe(1);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Done", le: "1800" })).toBe(1);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Done", le: "3600" })).toBe(2);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Done", le: "+Inf" })).toBe(2);
    expect(value("kodo_run_duration_seconds_bucket", { status: "Failed", le: "60" })).toBe(1);
    expect(value("kodo_run_duration_seconds_sum", { status: "Rejected" })).toBe(400);
    expect(value("kodo_run_duration_seconds_count", { status: "Cancelled" })).toBe(0);

    expect(metrics.types.get("kodo_model_calls_total")).toBe("counter");
    expect(value("kodo_model_calls_total", { agent: "build", step: "Build", status: "completed" })).toBe(2);
    expect(value("kodo_model_calls_total", { agent: "build", step: "Build", status: "interrupted" })).toBe(1);
    expect(value("kodo_model_calls_total", { agent: "build", step: "Build", status: "pending" })).toBe(1);
    expect(value("kodo_model_calls_total", { agent: "plan", step: "CompilePlan", status: "completed" })).toBe(1);
    expect(value("kodo_model_tokens_total", { agent: "build", step: "Build", kind: "input" })).toBe(3500);
    expect(value("kodo_model_tokens_total", { agent: "build", step: "Build", kind: "output" })).toBe(1000);
    expect(value("kodo_model_tokens_total", { agent: "build", step: "Build", kind: "reasoning" })).toBe(4);
    expect(value("kodo_model_tokens_total", { agent: "build", step: "Build", kind: "cache_read" })).toBe(40);
    expect(value("kodo_model_tokens_total", { agent: "plan", step: "CompilePlan", kind: "cache_write" })).toBe(0);
    expect(value("kodo_model_cost_usd_total", { agent: "build", step: "Build" })).toBeCloseTo(0.0325, 9);
    expect(value("kodo_model_cost_usd_total", { agent: "plan", step: "CompilePlan" })).toBeCloseTo(0.0125, 9);
    // completed calls only: 45 s and 400 s for Build
    expect(value("kodo_model_call_duration_seconds_count", { agent: "build", step: "Build" })).toBe(2);
    expect(value("kodo_model_call_duration_seconds_sum", { agent: "build", step: "Build" })).toBe(445);
    expect(value("kodo_model_call_duration_seconds_bucket", { agent: "build", step: "Build", le: "60" })).toBe(1);
    expect(value("kodo_model_call_duration_seconds_bucket", { agent: "build", step: "Build", le: "300" })).toBe(1);
    expect(value("kodo_model_call_duration_seconds_bucket", { agent: "build", step: "Build", le: "600" })).toBe(2);
    expect(value("kodo_model_call_duration_seconds_bucket", { agent: "plan", step: "CompilePlan", le: "5" })).toBe(1);

    expect(value("kodo_verify_duration_seconds_count", { class: "PASSED" })).toBe(1);
    expect(value("kodo_verify_duration_seconds_sum", { class: "TEST_FAILURE" })).toBe(2.5);
    expect(value("kodo_verify_duration_seconds_bucket", { class: "TEST_FAILURE", le: "1" })).toBe(0);
    expect(value("kodo_verify_duration_seconds_bucket", { class: "TEST_FAILURE", le: "5" })).toBe(1);
    expect(value("kodo_verify_duration_seconds_bucket", { class: "PASSED", le: "10" })).toBe(1);

    expect(value("kodo_queue_depth", { queue: RUN_QUEUE })).toBe(2);
    expect(value("kodo_queue_running", { queue: RUN_QUEUE })).toBe(2);
    expect(value("kodo_approvals_pending")).toBe(2);
    expect(value("kodo_approvals_overdue")).toBe(1);

    expect(value("kodo_build_info", { version: "kodo-test" })).toBe(1);
    expect(value("kodo_worker")).toBe(1);
    expect(value("kodo_opencode_restarts_total")).toBe(3);
    expect(value("kodo_opencode_up")).toBe(1);
    for (const name of metrics.types.keys()) expect(metrics.help.get(name)).toMatch(/\S/);
  });

  it("follows the database: a new run and an OpenCode restart show up at the next scrape", async () => {
    await run([["Planning", 1], ["Cancelled", 5]]);
    restarts = 4;
    const metrics = parseExposition(await (await scrape()).text());
    expect(metrics.value("kodo_runs", { status: "Cancelled" })).toBe(1);
    expect(metrics.value("kodo_run_duration_seconds_bucket", { status: "Cancelled", le: "60" })).toBe(1);
    expect(metrics.value("kodo_opencode_restarts_total")).toBe(4);
  });

  it("reads every total through an index, never a table scan", async () => {
    const client = await db.pool.connect();
    const plans: string[] = [];
    // the same queries, explained: rows come back as plan lines
    const explaining = {
      query: async (sql: string, params?: unknown[]) => {
        const result = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params);
        plans.push(result.rows.map((row) => row["QUERY PLAN"]).join("\n"));
        return { rows: [] };
      },
    } as unknown as PoolClient;
    try {
      await client.query("SET enable_seqscan = off");
      await runTotals(explaining, RUN_DURATION_BOUNDS);
      await modelCallTotals(explaining, MODEL_CALL_DURATION_BOUNDS);
      await verifyTotals(explaining, VERIFY_DURATION_BOUNDS);
      await queueTotals(explaining, RUN_QUEUE);
      await approvalTotals(explaining);
    } finally {
      await client.query("RESET enable_seqscan");
      client.release();
    }
    const [runs, calls, verify, queue, approvals] = plans;
    expect(runs).toContain("Index Only Scan using runs_metrics_idx");
    expect(calls).toContain("Index Only Scan using model_calls_metrics_idx");
    expect(verify).toContain("Index Only Scan using test_runs_metrics_idx");
    expect(queue).toMatch(/Index (Only )?Scan using idx_workflow_status_in_flight/);
    expect(approvals).toMatch(/(Index|Bitmap Index) (Only )?Scan (using|on) approvals_pending_idx/);
    for (const plan of plans) expect(plan).not.toContain("Seq Scan");
  });

  it("answers 503 when the database is gone", async () => {
    const broken = createApp({
      service: new KodoService({ pool: db.pool, control, clock: systemClock, random }),
      governance: new GovernanceService({ pool: db.pool, clock: systemClock, random }),
      pool: { connect: async () => Promise.reject(new Error("connection refused")) } as unknown as Database["pool"],
      hub: new EventHub(db.pool, db.url),
      health: async () => ({ ok: true, version: "kodo-test", database: "embedded", opencode: { url: null, restarts: 0, healthy: false, sandboxed: false }, worker: false }),
    });
    const response = await broken.request("/metrics");
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("DB_UNAVAILABLE");
  });
});

describe("GET /metrics of an API-only process", () => {
  it("has no OpenCode series", async () => {
    const apiOnly = createApp({
      service: new KodoService({ pool: db.pool, control, clock: systemClock, random }),
      governance: new GovernanceService({ pool: db.pool, clock: systemClock, random }),
      pool: db.pool,
      hub: new EventHub(db.pool, db.url),
      health: async () => ({ ok: true, version: "kodo-test", database: "external", opencode: { url: null, restarts: 0, healthy: false, sandboxed: false }, worker: false }),
    });
    const metrics = parseExposition(await (await apiOnly.request("/metrics")).text());
    expect(metrics.value("kodo_worker")).toBe(0);
    expect(metrics.types.has("kodo_opencode_restarts_total")).toBe(false);
    expect(metrics.types.has("kodo_opencode_up")).toBe(false);
    expect(metrics.value("kodo_runs", { status: "Done" })).toBe(2);
  });
});
