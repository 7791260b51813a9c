/**
 * The permission bridge over a real `opencode serve`, the scripted model and a real Postgres: every
 * bash call of a session whose rules say `ask` reaches the bridge, which answers by policy (allow,
 * deny), hands it to a person (pending row, answered through the API service, delivered by the
 * sweep), rejects it at its deadline, or rejects it at once for a session kodo does not know. A
 * turn waiting for a person is not a stall; a new bridge expires the asks of the previous one.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KodoEvent } from "@kodo/contracts";
import { PermissionBridge, type BridgeDecision, type BridgeAsk } from "../../src/agent/permission-bridge.js";
import { buildPermissions } from "../../src/agent/permissions.js";
import { createOpenCodeRuntime, type OpenCodeRuntime, type PromptResult } from "../../src/agent/runtime.js";
import { startOpenCodeServer, type OpenCodeServer } from "../../src/agent/server-supervisor.js";
import { withTransaction, type Database } from "../../src/db/database.js";
import { newId, seededRandom, systemClock } from "../../src/lib/ports.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { ApprovalService } from "../../src/service/approval-service.js";
import { findApprovalByRequest, type ApprovalRow } from "../../src/store/approvals.js";
import { insertRun } from "../../src/store/runs.js";
import { insertTask } from "../../src/store/tasks.js";
import { startTestDatabase } from "../support/database.js";
import { gitRepo, leftoverProcesses, removeTempDirs, tempStateDir, until } from "./helpers.js";

const COMMAND = "echo ran > bash-ran.txt";
const script = parseScript({
  version: 1,
  rules: [
    { name: "title", when: { titleRequest: true }, reply: { text: "A title" } },
    { name: "bash-call", when: { user: "RUN_BASH", tool: "bash", toolResults: 0 }, reply: { toolCalls: [{ name: "bash", arguments: { command: COMMAND, description: "write a file" } }] } },
    { name: "bash-after", when: { user: "RUN_BASH", toolResults: 1 }, reply: { text: "bash turn done" } },
  ],
});

const random = seededRandom("permission-bridge");
let db: Database;
let model: ScriptedModelServer;
let server: OpenCodeServer;
let bridge: PermissionBridge;
let runtime: OpenCodeRuntime;
const asked: BridgeAsk[] = [];
let decision: BridgeDecision = { action: "ask", code: "ASK", reason: "a person decides", matchedRules: [] };
const service = (): ApprovalService => new ApprovalService({ pool: db.pool, clock: systemClock });

const startBridge = (): Promise<PermissionBridge> =>
  PermissionBridge.start({
    server,
    pool: db.pool,
    clock: systemClock,
    random,
    timeoutSeconds: 600,
    sweepMs: 250,
    decide: async (ask) => {
      asked.push(ask);
      return decision;
    },
  });

beforeAll(async () => {
  db = await startTestDatabase();
  model = await startScriptedModelServer({ script });
  const stateDir = tempStateDir("bridge");
  server = await startOpenCodeServer({ stateDir, model: { baseUrl: model.url, apiKey: "unused", model: "scripted-1" }, logFile: path.join(stateDir, "opencode.log") });
  bridge = await startBridge();
  runtime = createOpenCodeRuntime(server, { waitingForHuman: (sessionId) => bridge.hasPending(sessionId), askPermissions: ["bash"] });
}, 120_000);

afterAll(async () => {
  await bridge?.stop();
  const report = await server?.stop();
  await model?.close();
  await db?.close();
  const leftovers = leftoverProcesses();
  removeTempDirs();
  expect(report?.survivors ?? []).toEqual([]);
  expect(leftovers).toEqual([]);
}, 60_000);

/** A task, a run and an agent session kodo knows (kodo.sessions), in a fresh repository. */
async function knownSession(options: { approvalTimeoutSeconds?: number } = {}): Promise<{ sessionId: string; repo: string; runId: string }> {
  const repo = gitRepo("bridge");
  const taskId = newId("tsk", systemClock, random);
  const runId = newId("run", systemClock, random);
  const { sessionId } = await runtime.createSession({ directory: repo, title: "bridge test", permission: buildPermissions() });
  await withTransaction(db.pool, async (client) => {
    const at = systemClock.now();
    await insertTask(client, { id: taskId, title: "bridge", prompt: "p", repoPath: repo, baseRef: "HEAD", options: { planApproval: "auto", ...options }, at });
    await insertRun(client, { id: runId, taskId, at });
    await client.query(`INSERT INTO kodo.sessions (session_id, run_id, agent, directory) VALUES ($1, $2, 'build', $3)`, [sessionId, runId, repo]);
  });
  return { sessionId, repo, runId };
}

function prompt(sessionId: string, repo: string, stallMs = 20_000): Promise<PromptResult> {
  return runtime.prompt({ sessionId, directory: repo, agent: "build", text: "RUN_BASH please", stallMs, timeoutMs: 120_000 });
}

async function rowsOf(sessionId: string): Promise<ApprovalRow[]> {
  return (await db.pool.query<ApprovalRow>(`SELECT * FROM kodo.approvals WHERE session_id = $1 ORDER BY created_at`, [sessionId])).rows;
}

/** What the model was told about its bash call in its latest turn (the scripted model's log). */
function lastToolResult(): string {
  return model.stats().log.filter((entry) => entry.rule === "bash-after").at(-1)?.lastToolResult ?? "";
}

async function pendingRow(sessionId: string): Promise<ApprovalRow> {
  return until(async () => (await rowsOf(sessionId)).find((row) => row.status === "pending"), 60_000, `a pending approval of ${sessionId}`);
}

describe("the permission bridge", () => {
  it("rejects at once an ask from a session kodo does not know, and records nothing", async () => {
    const repo = gitRepo("unknown");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "unknown", permission: buildPermissions() });
    const result = await prompt(sessionId, repo);
    expect(result.text).toBe("bash turn done");
    expect(fs.existsSync(path.join(repo, "bash-ran.txt"))).toBe(false);
    expect(lastToolResult()).toContain("kodo does not know this session");
    expect(await rowsOf(sessionId)).toEqual([]);
  });

  it("answers by policy: allow runs the command, deny tells the model the code and reason; both are recorded", async () => {
    decision = { action: "allow", code: "ALLOWED", reason: "echo is harmless", matchedRules: ["echo"] };
    const allowed = await knownSession();
    expect((await prompt(allowed.sessionId, allowed.repo)).text).toBe("bash turn done");
    expect(fs.readFileSync(path.join(allowed.repo, "bash-ran.txt"), "utf8")).toBe("ran\n");
    expect(asked.at(-1)).toMatchObject({ runId: allowed.runId, sessionId: allowed.sessionId, agent: "build", permission: "bash", patterns: [COMMAND], directory: allowed.repo });
    const [allowRow] = await rowsOf(allowed.sessionId);
    expect(allowRow).toMatchObject({ status: "answered", decision: "once", answered_by: "kodo:policy", decided_by_policy: decision, permission: "bash" });
    expect(allowRow?.delivered_at).not.toBeNull();

    decision = { action: "deny", code: "NO_SHELL", reason: "no shell for this task", matchedRules: ["no-shell"] };
    const denied = await knownSession();
    expect((await prompt(denied.sessionId, denied.repo)).text).toBe("bash turn done");
    expect(fs.existsSync(path.join(denied.repo, "bash-ran.txt"))).toBe(false);
    expect(lastToolResult()).toContain("kodo policy denied this (NO_SHELL): no shell for this task");
    const [denyRow] = await rowsOf(denied.sessionId);
    expect(denyRow).toMatchObject({ status: "answered", decision: "reject", answered_by: "kodo:policy", delivery_error: null });
    expect(denyRow?.delivered_at).not.toBeNull();
    // nobody was asked: no approval events
    const events = await db.pool.query(`SELECT 1 FROM kodo.events WHERE type LIKE 'approval.%' AND session_id = ANY($1)`, [[allowed.sessionId, denied.sessionId]]);
    expect(events.rowCount).toBe(0);
  });

  it("asks a person: the turn waits past stallMs without stalling, and the answer reaches OpenCode through the database", async () => {
    decision = { action: "ask", code: "ASK", reason: "a person decides", matchedRules: ["ask-bash"] };
    const { sessionId, repo, runId } = await knownSession();
    // long enough that a loaded machine's slow start of the turn is not a stall; the wait below is longer
    const stallMs = 8_000;
    const turn = prompt(sessionId, repo, stallMs);
    const row = await pendingRow(sessionId);
    expect(row).toMatchObject({ kind: "permission", permission: "bash", patterns: [COMMAND], decided_by_policy: decision, server_instance: bridge.instance });
    expect(bridge.hasPending(sessionId)).toBe(true);
    const requested = await db.pool.query<{ payload: unknown }>(`SELECT payload FROM kodo.events WHERE type = 'approval.requested' AND session_id = $1`, [sessionId]);
    expect(KodoEvent.parse(requested.rows[0]?.payload)).toMatchObject({ type: "approval.requested", runId, approvalId: row.id, permission: "bash" });

    // longer than the stall limit: waiting for a person is not a stall
    await new Promise((resolve) => setTimeout(resolve, stallMs + 2_000));
    expect(fs.existsSync(path.join(repo, "bash-ran.txt"))).toBe(false);
    await service().answer(row.id, { decision: "once" }, "alice");
    const result = await turn;
    expect(result.text).toBe("bash turn done");
    expect(fs.readFileSync(path.join(repo, "bash-ran.txt"), "utf8")).toBe("ran\n");
    const [delivered] = await rowsOf(sessionId);
    expect(delivered).toMatchObject({ status: "answered", decision: "once", answered_by: "alice", delivery_error: null });
    expect(delivered?.delivered_at).not.toBeNull();
    expect(bridge.hasPending(sessionId)).toBe(false);
  });

  it("rejects an ask nobody answers at its deadline; the model is told and the turn goes on", async () => {
    decision = { action: "ask", code: "ASK", reason: "a person decides", matchedRules: [] };
    const { sessionId, repo } = await knownSession({ approvalTimeoutSeconds: 2 });
    const result = await prompt(sessionId, repo, 10_000);
    expect(result.text).toBe("bash turn done");
    expect(fs.existsSync(path.join(repo, "bash-ran.txt"))).toBe(false);
    expect(lastToolResult()).toContain("nobody answered within 2 s; denied — continue without it");
    const [row] = await rowsOf(sessionId);
    expect(row).toMatchObject({ status: "answered", decision: "reject", answered_by: "kodo:deadline" });
    expect(row?.delivered_at).not.toBeNull();
  });

  it("a new bridge expires the previous one's asks; an ask OpenCode still holds is asked again and can be answered", async () => {
    decision = { action: "ask", code: "ASK", reason: "a person decides", matchedRules: [] };
    const { sessionId, repo } = await knownSession();
    const turn = prompt(sessionId, repo, 10_000);
    const first = await pendingRow(sessionId);
    await bridge.stop();
    bridge = await startBridge();
    const [expired] = await rowsOf(sessionId);
    expect(expired).toMatchObject({ id: first.id, status: "expired", decision: "reject", answered_by: "kodo:restart" });
    const answered = await db.pool.query<{ payload: unknown }>(`SELECT payload FROM kodo.events WHERE type = 'approval.answered' AND session_id = $1`, [sessionId]);
    expect(KodoEvent.parse(answered.rows[0]?.payload)).toMatchObject({ approvalId: first.id, decision: "reject", answeredBy: "kodo:restart", expired: true });
    // This OpenCode server is alive and still waits: the new bridge finds the ask and asks again.
    const second = await until(() => findApprovalByRequest(db.pool, bridge.instance, first.opencode_request_id), 30_000, "the ask recorded again");
    expect(second.status).toBe("pending");
    await service().answer(second.id, { decision: "reject", message: "not now" }, "bob");
    expect((await turn).text).toBe("bash turn done");
    expect(lastToolResult()).toContain("not now");
    expect(fs.existsSync(path.join(repo, "bash-ran.txt"))).toBe(false);
  });
});
