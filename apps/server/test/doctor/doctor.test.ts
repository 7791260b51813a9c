/**
 * `runDoctor` against homes where things are missing or wrong: nothing running, a stale server.json,
 * a database that never answers, a port someone else holds, and a real migrated Postgres holding
 * runs no worker will ever move (another application version, a dead executor, no workflow at
 * all), ledger rows left pending and asks past their deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { APPLICATION_VERSION } from "../../src/config.js";
import { withTransaction, type Database } from "../../src/db/database.js";
import { findFreePort } from "../../src/db/free-port.js";
import { ACTIVE_RUNS_SQL } from "../../src/doctor/checks/workflows.js";
import { runDoctor } from "../../src/doctor/run-doctor.js";
import { fixedClock, newId, seededRandom, type Random } from "../../src/lib/ports.js";
import { insertPendingApproval } from "../../src/store/approvals.js";
import { changeRunStatus, insertRun } from "../../src/store/runs.js";
import { insertTask } from "../../src/store/tasks.js";
import { migrateSystemDatabase, RunControl } from "../../src/workflow/runtime.js";
import { startTestDatabase } from "../support/database.js";
import { check, deadPid, emptyHome, envOf, healthServer, silentServer, writeServerFile } from "./helpers.js";

const homes: string[] = [];
async function home(): Promise<string> {
  const dir = await emptyHome();
  homes.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of homes) await rm(dir, { recursive: true, force: true });
});

describe("a home with nothing running", () => {
  it("says so in WARNs, checks the machine, and fails nothing", async () => {
    const report = await runDoctor({ env: envOf(await home()) });
    expect(report.checks.map((found) => found.id)).toEqual([
      "node", "git", "disk", "sandbox", "config", "opencode.binary", "opencode.server", "ports", "kodo.server",
      "database", "database.migrations", "dbos.schema", "dbos.version", "runs.stuck", "model-calls.pending", "approvals.overdue",
    ]);
    for (const id of ["node", "git", "disk", "sandbox", "opencode.binary", "opencode.server"]) expect(check(report, id).status).toBe("PASS");
    expect(check(report, "kodo.server")).toMatchObject({ status: "WARN", summary: expect.stringContaining("kodo is not running"), fix: "start it: kodo serve" });
    expect(check(report, "database")).toMatchObject({ status: "WARN", summary: expect.stringContaining("has no embedded database yet") });
    expect(check(report, "config")).toMatchObject({ status: "WARN", summary: expect.stringContaining("no model is configured") });
    for (const id of ["database.migrations", "dbos.schema", "runs.stuck"]) expect(check(report, id)).toMatchObject({ status: "WARN", summary: expect.stringContaining("not checked") });
    expect(report.checks.filter((found) => found.status === "FAIL")).toEqual([]);
    expect(report.ok).toBe(true);
    for (const found of report.checks) if (found.status !== "PASS") expect(found.fix).toMatch(/\S/);
  });

  it("reports an invalid configuration and still checks the right home", async () => {
    const dir = await home();
    const report = await runDoctor({ env: envOf(dir, { KODO_AGENT_SANDBOX: "sometimes" }) });
    expect(check(report, "config")).toMatchObject({ status: "FAIL", summary: expect.stringContaining("KODO_AGENT_SANDBOX must be one of") });
    expect(report.home).toBe(dir);
    expect(report.ok).toBe(false);
  });
});

describe("a home whose kodo died and whose database never answers", () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof silentServer>>;

  beforeAll(async () => {
    dir = await home();
    database = await silentServer();
    await writeServerFile(dir, { url: "http://127.0.0.1:9", pid: await deadPid() });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("calls server.json stale and the database unreachable, within the connect bound", async () => {
    const report = await runDoctor({ env: envOf(dir, { DATABASE_URL: `postgres://kodo:secret@127.0.0.1:${database.port}/kodo` }) });
    expect(check(report, "kodo.server")).toMatchObject({ status: "WARN", summary: expect.stringContaining("stale") });
    const found = check(report, "database");
    expect(found).toMatchObject({ status: "FAIL", summary: expect.stringContaining("no answer from 127.0.0.1") });
    expect(found.summary).not.toContain("secret");
    expect(check(report, "runs.stuck")).toMatchObject({ status: "WARN", summary: expect.stringContaining("not checked") });
    expect(report.ok).toBe(false);
  });

  it("ends a check at its deadline with a FAIL that says so", async () => {
    const report = await runDoctor({ env: envOf(dir, { DATABASE_URL: `postgres://kodo:secret@127.0.0.1:${database.port}/kodo` }), checkTimeoutMs: 1_000 });
    expect(check(report, "database")).toMatchObject({ status: "FAIL", summary: "the check did not finish within its deadline (1000 ms)" });
    expect(check(report, "node").status).toBe("PASS");
  });
});

describe("a port someone else holds", () => {
  it("is a WARN naming the process and what breaks", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    try {
      const port = (squatter.address() as AddressInfo).port;
      const report = await runDoctor({ env: envOf(await home()), ports: { kodo: port, opencode: await findFreePort() } });
      const found = check(report, "ports");
      expect(found.status).toBe("WARN");
      expect(found.summary).toContain(`port ${port} (kodo's default) is taken by pid ${process.pid}`);
      expect(found.summary).toContain("EADDRINUSE");
      expect(found.fix).toContain("--port");
      expect(found.details).toMatchObject({ kodo: { port, free: false, holders: [{ pid: process.pid }] }, opencode: { free: true } });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});

describe("a database with runs nothing will move", () => {
  let db: Database & { dir: string };
  let control: RunControl;
  let old: RunControl;
  let random: Random;
  const clock = fixedClock(new Date("2026-03-01T09:00:00.000Z"));

  async function newRun(options: { enqueue?: RunControl; to?: Parameters<typeof changeRunStatus>[1]["to"][] } = {}): Promise<{ runId: string; taskId: string }> {
    const taskId = newId("tsk", clock, random);
    const runId = newId("run", clock, random);
    await withTransaction(db.pool, async (tx) => {
      await insertTask(tx, { id: taskId, title: "t", prompt: "p", repoPath: "/tmp/repo", baseRef: "HEAD", options: { planApproval: "manual" }, at: clock.now() });
      await insertRun(tx, { id: runId, taskId, at: clock.now() });
      if (options.enqueue !== undefined) await options.enqueue.enqueueRun(tx, runId);
    });
    for (const to of options.to ?? []) await withTransaction(db.pool, (tx) => changeRunStatus(tx, { runId, to, reason: null, at: clock.now() }));
    return { runId, taskId };
  }

  /** Everything kodo and DBOS recorded for the run happened `minutes` ago. */
  async function age(runId: string, minutes: number): Promise<void> {
    const ms = `(extract(epoch FROM now()) * 1000 - ${minutes * 60_000})::bigint`;
    await db.pool.query(`UPDATE kodo.runs SET updated_at = now() - make_interval(mins => $2) WHERE id = $1`, [runId, minutes]);
    await db.pool.query(`UPDATE kodo.events SET created_at = now() - make_interval(mins => $2) WHERE run_id = $1`, [runId, minutes]);
    await db.pool.query(`UPDATE dbos.workflow_status SET updated_at = ${ms}, created_at = ${ms} WHERE workflow_uuid = $1`, [runId]);
  }

  async function pendingCall(run: { runId: string; taskId: string }, minutesAgo: number): Promise<void> {
    await db.pool.query(
      `INSERT INTO kodo.model_calls (op_key, run_id, task_id, step_id, attempt, agent, status, request, created_at)
       VALUES ($1, $2, $3, 'Build', 1, 'build', 'pending', '{}'::jsonb, now() - make_interval(mins => $4))`,
      [random.token(16), run.runId, run.taskId, minutesAgo],
    );
  }

  async function ask(run: { runId: string; taskId: string }, deadline: Date): Promise<void> {
    await insertPendingApproval(db.pool, {
      id: newId("apr", clock, random),
      runId: run.runId,
      taskId: run.taskId,
      sessionId: "ses_x",
      kind: "permission",
      requestId: `per_${random.token(8)}`,
      directory: "/tmp/repo",
      permission: "bash",
      patterns: ["npm install left-pad"],
      metadata: {},
      questions: null,
      decidedByPolicy: null,
      serverInstance: "host:/home#t:1",
      at: new Date(deadline.getTime() - 900_000),
      deadlineAt: deadline,
    });
  }

  beforeAll(async () => {
    random = seededRandom("doctor");
    db = await startTestDatabase();
    const logFile = path.join(db.dir, "dbos.log");
    await migrateSystemDatabase(db.url, logFile);
    control = await RunControl.create(db.url, APPLICATION_VERSION, logFile);
    old = await RunControl.create(db.url, "kodo-0.0.9", logFile);
  });
  afterAll(async () => {
    await control?.close();
    await old?.close();
    await db?.close();
  });

  it("passes a clean, migrated database", async () => {
    const report = await runDoctor({ env: envOf(await home(), { DATABASE_URL: db.url }) });
    expect(check(report, "database")).toMatchObject({ status: "PASS", summary: expect.stringContaining("from DATABASE_URL") });
    expect(check(report, "database.migrations")).toMatchObject({ status: "PASS", summary: expect.stringMatching(/^all \d+ kodo migrations applied/) });
    expect(check(report, "dbos.schema")).toMatchObject({ status: "PASS", summary: expect.stringContaining("schema version") });
    expect(check(report, "dbos.version").status).toBe("PASS");
    expect(check(report, "runs.stuck")).toMatchObject({ status: "PASS", summary: "no runs in flight" });
  });

  it("without a kodo: FAILs the other version and the stuck runs, WARNs what the next start settles", async () => {
    const foreign = await newRun({ enqueue: old });
    const inFlight = await newRun({ enqueue: control, to: ["Planning"] });
    // a worker (executor kodo-local) took it, then died
    await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', executor_id = 'kodo-local' WHERE workflow_uuid = $1`, [inFlight.runId]);
    const orphan = await newRun();
    await pendingCall(inFlight, 120);
    await ask(inFlight, new Date(Date.now() - 600_000));

    const report = await runDoctor({ env: envOf(await home(), { DATABASE_URL: db.url }) });
    const version = check(report, "dbos.version");
    expect(version.status).toBe("FAIL");
    expect(version.summary).toContain(`1 ENQUEUED of "kodo-0.0.9"`);
    expect(version.summary).toContain("DBOS dequeues and recovers only workflows of its own version");
    expect(version.fix).toContain("KODO_APP_VERSION=kodo-0.0.9");

    const stuck = check(report, "runs.stuck");
    expect(stuck.status).toBe("FAIL");
    expect(stuck.summary).toMatch(/^3 of 3 runs in flight are stuck/);
    const problems = Object.fromEntries((stuck.details?.["runs"] as Array<{ runId: string; problem: string }>).map((found) => [found.runId, found.problem]));
    expect(problems).toEqual({ [foreign.runId]: "version", [inFlight.runId]: "no-kodo", [orphan.runId]: "orphaned" });
    expect(stuck.summary).toContain(`${orphan.runId} (Todo) has no DBOS workflow`);
    expect(stuck.fix).toContain("start kodo serve for this home");

    expect(check(report, "model-calls.pending")).toMatchObject({ status: "WARN", summary: expect.stringContaining(`${inFlight.runId} Build#1 (120 min)`) });
    expect(check(report, "approvals.overdue")).toMatchObject({ status: "WARN", summary: expect.stringContaining("past the deadline") });
    expect(report.ok).toBe(false);
    await db.pool.query(`UPDATE kodo.runs SET status = 'Cancelled', finished_at = now() WHERE id = ANY($1)`, [[foreign.runId, inFlight.runId, orphan.runId]]);
    await db.pool.query(`UPDATE dbos.workflow_status SET status = 'CANCELLED' WHERE workflow_uuid = ANY($1)`, [[foreign.runId, inFlight.runId]]);
    await db.pool.query(`UPDATE kodo.model_calls SET status = 'interrupted'`);
    await db.pool.query(`UPDATE kodo.approvals SET status = 'expired', decision = 'reject'`);
  });

  it("with a live worker: FAILs runs idle for N minutes, not those waiting for a person", async () => {
    const dir = await home();
    const stub = await healthServer(APPLICATION_VERSION);
    // this test process stands in for the kodo process of the home
    await writeServerFile(dir, { url: stub.url, pid: process.pid, databaseUrl: db.url, executorId: "kodo-local" });
    try {
      const idle = await newRun({ enqueue: control, to: ["Planning"] });
      await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', executor_id = 'kodo-local' WHERE workflow_uuid = $1`, [idle.runId]);
      await age(idle.runId, 90);
      const elsewhere = await newRun({ enqueue: control, to: ["Planning"] });
      await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', executor_id = 'worker-7' WHERE workflow_uuid = $1`, [elsewhere.runId]);
      await age(elsewhere.runId, 90);
      const review = await newRun({ enqueue: control, to: ["Planning", "PlanningReview"] });
      await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', executor_id = 'kodo-local' WHERE workflow_uuid = $1`, [review.runId]);
      await age(review.runId, 600);
      const fresh = await newRun({ enqueue: control, to: ["Planning"] });
      await db.pool.query(`UPDATE dbos.workflow_status SET status = 'PENDING', executor_id = 'kodo-local' WHERE workflow_uuid = $1`, [fresh.runId]);
      await pendingCall(fresh, 45);
      await ask(fresh, new Date(Date.now() - 300_000));

      const report = await runDoctor({ env: envOf(dir), stuckMinutes: 30 });
      expect(check(report, "kodo.server")).toMatchObject({ status: "PASS", summary: expect.stringContaining("API and worker (executor kodo-local)") });
      expect(check(report, "database")).toMatchObject({ status: "PASS", summary: expect.stringContaining("the running kodo") });
      const stuck = check(report, "runs.stuck");
      expect(stuck.status).toBe("FAIL");
      const problems = Object.fromEntries((stuck.details?.["runs"] as Array<{ runId: string; problem: string | null }>).map((found) => [found.runId, found.problem]));
      expect(problems).toEqual({ [idle.runId]: "idle", [elsewhere.runId]: "other-executor", [review.runId]: null, [fresh.runId]: null });
      expect(stuck.summary).toContain(`${idle.runId} (Planning, workflow PENDING): nothing moved for 90 min`);
      expect(stuck.summary).toContain(`${elsewhere.runId} is PENDING on executor worker-7, not this home's worker (kodo-local)`);
      expect(stuck.fix).toContain("KODO_EXECUTOR_ID");
      expect(check(report, "model-calls.pending")).toMatchObject({ status: "FAIL", summary: expect.stringContaining("while a worker runs") });
      expect(check(report, "approvals.overdue")).toMatchObject({ status: "FAIL", summary: expect.stringContaining("no permission bridge enforces deadlines") });
    } finally {
      await stub.close();
    }
  });

  it("reads only the runs in flight and pending rows, through indexes", async () => {
    const client = await db.pool.connect();
    try {
      await client.query("VACUUM ANALYZE");
      await client.query("SET enable_seqscan = off");
      const explain = async (sql: string, params: unknown[] = []): Promise<string> =>
        (await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, params)).rows.map((row) => row["QUERY PLAN"]).join("\n");
      const active = await explain(ACTIVE_RUNS_SQL);
      expect(active).toContain("runs_one_active_per_task");
      expect(active).not.toMatch(/Seq Scan on (runs|events|model_calls|operation_outputs|workflow_status)/);
      expect(await explain(`SELECT id FROM kodo.model_calls WHERE status = 'pending' AND created_at < now() - make_interval(mins => $1)`, [30])).toContain("model_calls_pending_idx");
    } finally {
      await client.query("RESET enable_seqscan").catch(() => undefined);
      client.release();
    }
  });
});
