import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { effectiveBudget, overBudget, turnAllowance, workingTimeMs } from "../../src/budget/budget.js";
import { ModelLedger, costOf, type PromptPort } from "../../src/model/ledger.js";
import { fixedClock } from "../../src/lib/ports.js";
import { KodoError, isKodoError } from "../../src/lib/errors.js";
import { startTestDatabase } from "../support/database.js";

const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 1, 0, minute));
const tokens = { input: 1000, output: 200, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
const price = { input: 3, output: 15, cacheRead: 0, cacheWrite: 0 };

describe("budget arithmetic", () => {
  it("takes the lower of the task's and the repository's limit, each on its own", () => {
    expect(effectiveBudget({ maxTokens: 500, maxCostUsd: 2 }, { maxTokens: 100, maxWallSeconds: 60 })).toEqual({ maxTokens: 100, maxCostUsd: 2, maxWallSeconds: 60 });
    expect(effectiveBudget(undefined, null)).toEqual({});
  });

  it("does not count the time spent waiting for a plan decision", () => {
    const history = [
      { to_status: "Queued", at: at(0) },
      { to_status: "Planning", at: at(1) },
      { to_status: "PlanningReview", at: at(3) },
      { to_status: "InProgress", at: at(63) },
    ];
    expect(workingTimeMs(history, at(65))).toBe(5 * 60_000);
    // still waiting: the clock is stopped at the review's start
    expect(workingTimeMs(history.slice(0, 3), at(50))).toBe(3 * 60_000);
    expect(workingTimeMs([], at(5))).toBe(0);
  });

  it("says which limit is reached, and bounds one turn by what is left", () => {
    expect(overBudget({ maxTokens: 1000 }, { tokens: 1000, costUsd: 0, wallMs: 0 })?.code).toBe("BUDGET_EXCEEDED");
    expect(overBudget({ maxCostUsd: 1 }, { tokens: 0, costUsd: 0.5, wallMs: 0 })).toBeUndefined();
    expect(overBudget({ maxWallSeconds: 10 }, { tokens: 0, costUsd: 0, wallMs: 10_000 })?.message).toContain("wall-time");
    const allowance = turnAllowance({ maxTokens: 2000, maxWallSeconds: 60 }, { tokens: 900, costUsd: 0, wallMs: 15_000 }, (t) => costOf(t, price));
    expect(allowance.remainingMs).toBe(45_000);
    expect(allowance.check({ ...tokens, input: 500, output: 100 })).toBeUndefined();
    expect(allowance.check(tokens)).toMatch(/2100 tokens/);
    const costly = turnAllowance({ maxCostUsd: 0.005 }, { tokens: 0, costUsd: 0.004, wallMs: 0 }, (t) => costOf(t, price));
    expect(costly.remainingMs).toBeUndefined();
    expect(costly.check(tokens)).toMatch(/over its budget of \$0.005/);
  });
});

/** The agent side of the ledger, recording what it was asked (the seam the ledger talks to). */
class RecordingAgent implements PromptPort {
  sent: Parameters<PromptPort["prompt"]>[0][] = [];
  failWith: KodoError | undefined;
  async prompt(o: Parameters<PromptPort["prompt"]>[0]): ReturnType<PromptPort["prompt"]> {
    this.sent.push(o);
    if (this.failWith !== undefined) throw this.failWith;
    return { messageId: `msg_${this.sent.length}`, text: "ok", structured: undefined, finish: "stop", tokens, modelId: "m", providerId: "p" };
  }
  async messages(): ReturnType<PromptPort["messages"]> {
    return [];
  }
}

describe("the ledger's budget gate", () => {
  let db: Database;
  beforeAll(async () => {
    db = await startTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });
  const call = (runId: string) => ({ runId, taskId: "tsk_budget", stepId: "Build", agent: "build" as const, sessionId: "ses_b", directory: "/tmp/x", prompt: "build it" });
  const ledger = (agent: RecordingAgent, gate: ConstructorParameters<typeof ModelLedger>[2]["gate"]) =>
    new ModelLedger(db.pool, agent, { clock: fixedClock(at(0)), cost: price, stallMs: 1000, timeoutMs: 60_000, ...(gate === undefined ? {} : { gate }) });

  it("over budget: nothing is recorded and nothing is sent", async () => {
    const agent = new RecordingAgent();
    const refused = await ledger(agent, async () => {
      throw new KodoError("BUDGET_EXCEEDED", "the task used 10 tokens of its budget of 5");
    })
      .call(call("run_over"))
      .catch((error: unknown) => error);
    expect(isKodoError(refused) && refused.code).toBe("BUDGET_EXCEEDED");
    expect(agent.sent).toHaveLength(0);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM kodo.model_calls WHERE run_id = 'run_over'`)).rows[0]).toEqual({ n: 0 });
  });

  it("within budget: the turn gets the remaining time and the token check", async () => {
    const agent = new RecordingAgent();
    const check = (): string | undefined => undefined;
    await ledger(agent, async () => ({ remainingMs: 5_000, check })).call(call("run_within"));
    expect(agent.sent[0]).toMatchObject({ timeoutMs: 5_000, budget: check });
  });

  it("a turn cut by the wall-time budget fails with BUDGET_EXCEEDED, not as a plain deadline", async () => {
    const agent = new RecordingAgent();
    agent.failWith = new KodoError("DEADLINE_EXCEEDED", "the turn did not finish within 5000 ms");
    const error = await ledger(agent, async () => ({ remainingMs: 5_000 }))
      .call(call("run_wall"))
      .catch((caught: unknown) => caught);
    expect(isKodoError(error) && error.code).toBe("BUDGET_EXCEEDED");
    const row = await db.pool.query<{ status: string; error: { code: string } }>(`SELECT status, error FROM kodo.model_calls WHERE run_id = 'run_wall'`);
    expect(row.rows[0]).toMatchObject({ status: "failed", error: { code: "BUDGET_EXCEEDED" } });
  });
});
