import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { ModelLedger, costOf, type PromptPort } from "../../src/model/ledger.js";
import { computeOpKey } from "../../src/model/op-key.js";
import { fixedClock } from "../../src/lib/ports.js";
import { KodoError } from "../../src/lib/errors.js";
import { startTestDatabase } from "../support/database.js";

type Message = Awaited<ReturnType<PromptPort["messages"]>>[number];
const tokens = { input: 100, output: 20, reasoning: 0, cacheRead: 5, cacheWrite: 0 };

/** An agent port whose behaviour each test scripts; it counts what was really sent. */
class ScriptedAgent implements PromptPort {
  sent: string[] = [];
  history: Message[] = [];
  behaviour: "answer" | "fail" | "crash" = "answer";

  async prompt(o: Parameters<PromptPort["prompt"]>[0]): ReturnType<PromptPort["prompt"]> {
    this.sent.push(o.text);
    const userId = `msg_u${this.history.length}`;
    this.history.push({ id: userId, role: "user", text: o.text, completed: true, tokens: { ...tokens, input: 0, output: 0, cacheRead: 0 } });
    if (this.behaviour === "fail") throw new KodoError("AGENT_FAILED", "model said no");
    if (this.behaviour === "crash") throw new Error("process died mid-call");
    const answer: Message = { id: `msg_a${this.history.length}`, role: "assistant", parentId: userId, text: `answer to ${o.text}`, completed: true, finish: "stop", tokens, modelId: "m1", providerId: "p1" };
    this.history.push(answer);
    return { messageId: answer.id, text: answer.text, structured: undefined, finish: "stop", tokens, modelId: "m1", providerId: "p1" };
  }

  async messages(): ReturnType<PromptPort["messages"]> {
    return this.history;
  }
}

let db: Database;
beforeAll(async () => {
  db = await startTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

const call = (runId: string, prompt = "do the thing") => ({
  runId,
  taskId: "tsk_test",
  stepId: "Build",
  agent: "build" as const,
  sessionId: "ses_1",
  directory: "/tmp/x",
  prompt,
});
const cost = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const ledgerFor = (agent: ScriptedAgent) => new ModelLedger(db.pool, agent, { clock: fixedClock(new Date("2026-01-01T00:00:00Z")), cost, stallMs: 1000, timeoutMs: 1000 });

describe("op_key", () => {
  it("is the same for the same inputs and differs for any change", () => {
    const base = { runId: "r", stepId: "s", attempt: 1, prompt: "p", schema: { b: 1, a: [1, 2] } };
    expect(computeOpKey(base)).toBe(computeOpKey({ ...base, schema: { a: [1, 2], b: 1 } }));
    for (const changed of [{ runId: "r2" }, { stepId: "s2" }, { attempt: 2 }, { prompt: "p2" }, { schema: { b: 2, a: [1, 2] } }]) {
      expect(computeOpKey({ ...base, ...changed })).not.toBe(computeOpKey(base));
    }
    expect(computeOpKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("ModelLedger", () => {
  let agent: ScriptedAgent;
  beforeEach(() => {
    agent = new ScriptedAgent();
  });

  it("writes the row, completes it with tokens and cost, and never sends a completed call again", async () => {
    const runId = "run_once";
    const first = await ledgerFor(agent).call(call(runId));
    expect(first.source).toBe("live");
    expect(first.costUsd).toBe(costOf(tokens, cost));
    // a new ledger (a restarted process): no L1, the SQL row answers
    const second = await ledgerFor(agent).call(call(runId));
    expect(second.source).toBe("l2");
    expect(second.opKey).toBe(first.opKey);
    const sameProcess = ledgerFor(agent);
    await sameProcess.call(call(runId));
    expect((await sameProcess.call(call(runId))).source).toBe("l1");
    expect(agent.sent).toHaveLength(1);
    const rows = await db.pool.query(`SELECT status, tokens_input, tokens_output, tokens_cache_read, cost_usd, model_id, duration_ms FROM kodo.model_calls WHERE run_id = $1`, [runId]);
    expect(rows.rows).toEqual([{ status: "completed", tokens_input: 100, tokens_output: 20, tokens_cache_read: 5, cost_usd: "0.000602", model_id: "p1/m1", duration_ms: expect.any(Number) }]);
  });

  it("reconciles a pending row against the session before re-sending anything", async () => {
    const runId = "run_reconcile";
    // the call went out and was answered, but the process died before completing the row
    await agent.prompt({ sessionId: "ses_1", directory: "/tmp/x", agent: "build", text: "do the thing", stallMs: 1, timeoutMs: 1 });
    const opKey = computeOpKey({ runId, stepId: "Build", attempt: 1, prompt: "do the thing", schema: undefined });
    await db.pool.query(
      `INSERT INTO kodo.model_calls (op_key, run_id, task_id, step_id, attempt, agent, status, request) VALUES ($1, $2, 'tsk_test', 'Build', 1, 'build', 'pending', '{}')`,
      [opKey, runId],
    );
    const result = await ledgerFor(agent).call(call(runId));
    expect(result.source).toBe("reconciled");
    expect(result.opKey).toBe(opKey);
    expect(agent.sent).toHaveLength(1);
    const rows = await db.pool.query(`SELECT status, tokens_input FROM kodo.model_calls WHERE run_id = $1`, [runId]);
    expect(rows.rows).toEqual([{ status: "completed", tokens_input: 100 }]);
  });

  it("marks an interrupted call and moves to the next attempt with a new op_key", async () => {
    const runId = "run_interrupted";
    const opKey1 = computeOpKey({ runId, stepId: "Build", attempt: 1, prompt: "do the thing", schema: undefined });
    await db.pool.query(
      `INSERT INTO kodo.model_calls (op_key, run_id, task_id, step_id, attempt, agent, status, request) VALUES ($1, $2, 'tsk_test', 'Build', 1, 'build', 'pending', '{}')`,
      [opKey1, runId],
    );
    const result = await ledgerFor(agent).call(call(runId));
    expect(result.source).toBe("live");
    expect(result.attempt).toBe(2);
    const rows = await db.pool.query(`SELECT attempt, status FROM kodo.model_calls WHERE run_id = $1 ORDER BY attempt`, [runId]);
    expect(rows.rows).toEqual([
      { attempt: 1, status: "interrupted" },
      { attempt: 2, status: "completed" },
    ]);
  });

  it("records a failed call with its error and spends that attempt", async () => {
    const runId = "run_failed";
    agent.behaviour = "fail";
    await expect(ledgerFor(agent).call(call(runId))).rejects.toMatchObject({ code: "AGENT_FAILED" });
    agent.behaviour = "answer";
    const result = await ledgerFor(agent).call(call(runId));
    expect(result.attempt).toBe(2);
    const rows = await db.pool.query(`SELECT attempt, status, error->>'code' AS code FROM kodo.model_calls WHERE run_id = $1 ORDER BY attempt`, [runId]);
    expect(rows.rows).toEqual([
      { attempt: 1, status: "failed", code: "AGENT_FAILED" },
      { attempt: 2, status: "completed", code: null },
    ]);
  });

  it("keeps op_key unique under concurrent identical calls", async () => {
    const runId = "run_concurrent";
    const results = await Promise.allSettled([ledgerFor(agent).call(call(runId)), ledgerFor(agent).call(call(runId))]);
    const keys = await db.pool.query(`SELECT op_key, count(*)::int AS n FROM kodo.model_calls WHERE run_id = $1 GROUP BY op_key`, [runId]);
    for (const row of keys.rows) expect(row.n).toBe(1);
    expect(results.some((r) => r.status === "fulfilled")).toBe(true);
  });
});
