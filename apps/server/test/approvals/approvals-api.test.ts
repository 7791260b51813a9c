/**
 * The approvals store and API on a real Postgres: answering (once, idempotent retries, conflicts),
 * the deadline, restart expiry and listing. Routes are driven through their front door
 * (`app.request`), the way createApp mounts them.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Approval, ApprovalList, KodoEvent } from "@kodo/contracts";
import { withTransaction, type Database } from "../../src/db/database.js";
import { errorResponse, validationError } from "../../src/http/errors.js";
import { registerApprovalRoutes } from "../../src/http/routes/approvals.js";
import { fixedClock, newId, seededRandom, type Clock } from "../../src/lib/ports.js";
import { expireApprovals, insertPendingApproval, rejectOverdueApprovals, type NewApproval } from "../../src/store/approvals.js";
import { insertRun } from "../../src/store/runs.js";
import { insertTask } from "../../src/store/tasks.js";
import { startTestDatabase } from "../support/database.js";

let db: Database;
let now = new Date("2026-01-05T10:00:00.000Z");
const clock: Clock = { now: () => new Date(now.getTime()) };
const random = seededRandom("approvals-api");
let app: OpenAPIHono;
let runId: string;
let taskId: string;

beforeAll(async () => {
  db = await startTestDatabase();
  app = new OpenAPIHono({ defaultHook: (result, c) => (result.success ? undefined : errorResponse(c, validationError(result.error))) });
  app.onError((error, c) => errorResponse(c, error));
  registerApprovalRoutes(app, { pool: db.pool, actor: "alice", clock });
  taskId = newId("tsk", fixedClock(now), random);
  runId = newId("run", fixedClock(now), random);
  await withTransaction(db.pool, async (client) => {
    await insertTask(client, { id: taskId, title: "t", prompt: "p", repoPath: "/tmp/repo", baseRef: "HEAD", options: { planApproval: "auto" }, at: now });
    await insertRun(client, { id: runId, taskId, at: now });
  });
});
afterAll(async () => {
  await db?.close();
});

const OWNER = "host:/home/kodo/opencode";
const LIVE = `${OWNER}#live:100`;

async function ask(options: { instance?: string; kind?: "permission" | "question"; timeoutSeconds?: number; run?: string } = {}): Promise<string> {
  const id = newId("apr", clock, random);
  const input: NewApproval = {
    id,
    runId: options.run ?? runId,
    taskId,
    sessionId: "ses_test",
    kind: options.kind ?? "permission",
    requestId: `per_${random.token(10)}`,
    directory: "/tmp/repo",
    permission: options.kind === "question" ? null : "bash",
    patterns: options.kind === "question" ? [] : ["npm install left-pad"],
    metadata: options.kind === "question" ? {} : { command: "npm install left-pad" },
    questions: options.kind === "question" ? [{ question: "Which port?", header: "Port", options: [{ label: "8080", description: "the usual" }] }] : null,
    decidedByPolicy: options.kind === "question" ? null : { action: "ask", code: "ASK", reason: "installs need a person", matchedRules: ["npm-install"] },
    serverInstance: options.instance ?? LIVE,
    at: clock.now(),
    deadlineAt: new Date(now.getTime() + (options.timeoutSeconds ?? 900) * 1000),
  };
  const row = await withTransaction(db.pool, (client) => insertPendingApproval(client, input));
  expect(row?.status).toBe("pending");
  return id;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await app.request(path, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

async function eventsOf(approvalId: string): Promise<KodoEvent[]> {
  const result = await db.pool.query<{ payload: unknown }>(`SELECT payload FROM kodo.events WHERE payload->>'approvalId' = $1 ORDER BY id`, [approvalId]);
  return result.rows.map((row) => KodoEvent.parse(row.payload));
}

describe("answering an ask", () => {
  it("pending → answered once, with its event; the same answer again is a 200 retry; another one is 409 APPROVAL_NOT_PENDING", async () => {
    const id = await ask();
    expect(await eventsOf(id)).toEqual([
      expect.objectContaining({ type: "approval.requested", approvalId: id, runId, taskId, kind: "permission", permission: "bash", patterns: ["npm install left-pad"] }),
    ]);
    const first = await call("POST", `/api/approvals/${id}`, { decision: "once", message: "fine this time" });
    expect(first.status).toBe(200);
    const answered = Approval.parse(first.body);
    expect(answered).toMatchObject({ status: "answered", decision: "once", message: "fine this time", answeredBy: "alice", deliveredAt: null, answeredAt: now.toISOString() });
    expect(answered.decidedByPolicy).toEqual({ action: "ask", code: "ASK", reason: "installs need a person", matchedRules: ["npm-install"] });

    const again = await call("POST", `/api/approvals/${id}`, { decision: "once" });
    expect(again.status).toBe(200);
    expect(Approval.parse(again.body)).toEqual(answered);

    const other = await call("POST", `/api/approvals/${id}`, { decision: "reject" });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: "APPROVAL_NOT_PENDING", details: { status: "answered", decision: "once", answeredBy: "alice" } } });
    // another person giving the same decision is not the same answer
    const bob = await call("POST", `/api/approvals/${id}`, { decision: "once" }, { "x-kodo-actor": "bob" });
    expect(bob.status).toBe(409);

    const events = await eventsOf(id);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({ type: "approval.answered", taskId, runId, sessionId: "ses_test", approvalId: id, decision: "once", answeredBy: "alice", byDeadline: false, expired: false });
  });

  it("a reject without a message still tells the model something; X-Kodo-Actor names the person", async () => {
    const id = await ask();
    const response = await call("POST", `/api/approvals/${id}`, { decision: "reject" }, { "x-kodo-actor": "carol" });
    expect(response.status).toBe(200);
    expect(Approval.parse(response.body)).toMatchObject({ decision: "reject", answeredBy: "carol", message: "carol rejected this; continue without it" });
  });

  it("a question needs its answer text; bad bodies are 400; unknown ids 404", async () => {
    const id = await ask({ kind: "question" });
    const missing = await call("POST", `/api/approvals/${id}`, { decision: "once" });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
    expect((await call("POST", `/api/approvals/${id}`, { decision: "maybe" })).status).toBe(400);
    expect((await call("POST", `/api/approvals/${id}`, { decision: "once", message: "x".repeat(10_001) })).status).toBe(400);
    expect((await call("POST", `/api/approvals/${id}`, { decision: "once", extra: true })).status).toBe(400);
    const answered = await call("POST", `/api/approvals/${id}`, { decision: "once", message: "8080" });
    expect(Approval.parse(answered.body)).toMatchObject({ kind: "question", decision: "once", message: "8080", questions: [{ question: "Which port?" }] });
    expect((await call("POST", "/api/approvals/apr_nope", { decision: "once" })).status).toBe(404);
    expect((await call("GET", "/api/approvals/apr_nope")).body).toMatchObject({ error: { code: "NOT_FOUND" } });
  });
});

describe("deadlines and restarts", () => {
  it("an answer after the deadline is refused (409) and the ask is rejected in the deadline's name", async () => {
    const id = await ask({ timeoutSeconds: 5 });
    now = new Date(now.getTime() + 6_000);
    const late = await call("POST", `/api/approvals/${id}`, { decision: "once" });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: "APPROVAL_NOT_PENDING", details: { status: "answered", decision: "reject", answeredBy: "kodo:deadline" } } });
    const row = Approval.parse((await call("GET", `/api/approvals/${id}`)).body);
    expect(row.message).toBe("nobody answered within 5 s; denied — continue without it");
    expect((await eventsOf(id)).at(-1)).toMatchObject({ type: "approval.answered", decision: "reject", answeredBy: "kodo:deadline", byDeadline: true, expired: false });
  });

  it("the sweep rejects the overdue asks of its own server instance only", async () => {
    const mine = await ask({ timeoutSeconds: 3 });
    const notYet = await ask({ timeoutSeconds: 60 });
    const theirs = await ask({ timeoutSeconds: 3, instance: "other-host:/x#t:1" });
    now = new Date(now.getTime() + 4_000);
    const rejected = await withTransaction(db.pool, (client) => rejectOverdueApprovals(client, { serverInstance: LIVE, now: clock.now(), limit: 50 }));
    expect(rejected.map((row) => row.id)).toEqual([mine]);
    expect(rejected[0]).toMatchObject({ status: "answered", decision: "reject", answered_by: "kodo:deadline", message: "nobody answered within 3 s; denied — continue without it", delivered_at: null });
    const states = await db.pool.query<{ id: string; status: string }>(`SELECT id, status FROM kodo.approvals WHERE id = ANY($1)`, [[notYet, theirs]]);
    expect(states.rows.every((row) => row.status === "pending")).toBe(true);
    expect((await eventsOf(mine)).at(-1)).toMatchObject({ type: "approval.answered", byDeadline: true });
  });

  it("a restarted owner expires the asks of its previous server instances, not its own or another owner's", async () => {
    const previous = await ask({ instance: `${OWNER}#dead:99` });
    const answeredUndelivered = await ask({ instance: `${OWNER}#dead:99` });
    await call("POST", `/api/approvals/${answeredUndelivered}`, { decision: "once" });
    const current = await ask({ instance: LIVE });
    const stranger = await ask({ instance: "other-host:/home/kodo/opencode#t:5" });
    const expired = await withTransaction(db.pool, (client) => expireApprovals(client, { scope: { owner: OWNER, current: LIVE }, now: clock.now(), limit: 100 }));
    expect(expired.map((row) => row.id)).toEqual([previous]);
    const listed = ApprovalList.parse((await call("GET", `/api/approvals?status=all&runId=${runId}`)).body).approvals;
    const rows = new Map(listed.map((approval) => [approval.id, approval]));
    expect(rows.get(previous)).toMatchObject({ status: "expired", decision: "reject", answeredBy: "kodo:restart", deliveryError: expect.stringContaining("gone") });
    expect(rows.get(answeredUndelivered)).toMatchObject({ status: "answered", decision: "once", deliveryError: expect.stringContaining("gone") });
    expect(rows.get(current)?.status).toBe("pending");
    expect(rows.get(stranger)?.status).toBe("pending");
    expect((await eventsOf(previous)).at(-1)).toMatchObject({ type: "approval.answered", decision: "reject", answeredBy: "kodo:restart", expired: true });
    // an expired ask cannot be answered any more
    const late = await call("POST", `/api/approvals/${previous}`, { decision: "reject" });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: { code: "APPROVAL_NOT_PENDING", details: { status: "expired" } } });
  });

  it("any bridge expires asks left pending long past their deadline (their worker is gone)", async () => {
    const abandoned = await ask({ instance: "gone-host:/h#t:7", timeoutSeconds: 1 });
    const fresh = await ask({ instance: "gone-host:/h#t:7", timeoutSeconds: 1 });
    now = new Date(now.getTime() + 2_000);
    const expired = await withTransaction(db.pool, (client) =>
      expireApprovals(client, { scope: { overdueBefore: new Date(now.getTime() - 500), current: LIVE }, now: clock.now(), limit: 100 }),
    );
    expect(expired.map((row) => row.id)).toContain(abandoned);
    expect(expired.map((row) => row.id)).toContain(fresh);
    expect(expired.every((row) => row.answered_by === "kodo:orphaned")).toBe(true);
  });
});

describe("listing", () => {
  it("pending by default (soonest deadline first), by status and run, or all; bad filters are 400", async () => {
    const otherTask = newId("tsk", clock, random);
    const otherRun = newId("run", clock, random);
    await withTransaction(db.pool, async (client) => {
      await insertTask(client, { id: otherTask, title: "t2", prompt: "p", repoPath: "/tmp/repo", baseRef: "HEAD", options: { planApproval: "auto" }, at: now });
      await insertRun(client, { id: otherRun, taskId: otherTask, at: now });
    });
    const later = await ask({ run: otherRun, timeoutSeconds: 600 });
    const sooner = await ask({ run: otherRun, timeoutSeconds: 60 });
    const done = await ask({ run: otherRun });
    await call("POST", `/api/approvals/${done}`, { decision: "always" });

    const pending = ApprovalList.parse((await call("GET", `/api/approvals?runId=${otherRun}`)).body).approvals;
    expect(pending.map((approval) => approval.id)).toEqual([sooner, later]);
    const answered = ApprovalList.parse((await call("GET", `/api/approvals?runId=${otherRun}&status=answered`)).body).approvals;
    expect(answered.map((approval) => approval.id)).toEqual([done]);
    const all = ApprovalList.parse((await call("GET", `/api/approvals?runId=${otherRun}&status=all`)).body).approvals;
    expect(all.map((approval) => approval.id).sort()).toEqual([done, later, sooner].sort());
    const everywhere = ApprovalList.parse((await call("GET", "/api/approvals")).body).approvals;
    expect(everywhere.every((approval) => approval.status === "pending")).toBe(true);
    expect(everywhere.map((approval) => approval.runId)).toContain(runId);
    expect((await call("GET", "/api/approvals?status=nope")).status).toBe(400);
    expect((await call("GET", "/api/approvals?runId=not-a-run")).status).toBe(400);
    expect(Approval.parse((await call("GET", `/api/approvals/${later}`)).body).id).toBe(later);
  });
});
