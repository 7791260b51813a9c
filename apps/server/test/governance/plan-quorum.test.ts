/**
 * Plan approval under a plan quorum, through POST /api/runs/{id}/approve-plan and reject-plan, on a
 * real Postgres with a real DBOS RunControl. The run's workflow is enqueued but no worker runs it,
 * so the run stays where the test puts it; the DBOS message is the proof the decision was sent.
 * (test/e2e/plan-quorum.test.ts drives the same through a real worker.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiError, ExecuteResponse, PlanDecisionResponse, Task } from "@kodo/contracts";
import { withTransaction } from "../../src/db/database.js";
import { changeRunStatus } from "../../src/store/runs.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("governance-plan-quorum");
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const PLAN = { summary: "Add slugify", steps: ["write it"], files: ["src/slugify.js"], risks: [], tests: ["test/slugify.test.js"] };

/** A run of a new task in `repoPath`, waiting in PlanningReview (as the workflow would leave it). */
async function runInReview(repoPath: string): Promise<string> {
  const task = await h.call<Task>("POST", "/api/tasks", { title: "Add slugify", prompt: "Add slugify", repoPath });
  expect(task.status, JSON.stringify(task.body)).toBe(201);
  const { runId } = (await h.call<ExecuteResponse>("POST", `/api/tasks/${task.body.id}/execute`)).body;
  await withTransaction(h.db.pool, async (tx) => {
    await tx.query(`UPDATE kodo.runs SET plan = $2 WHERE id = $1`, [runId, JSON.stringify(PLAN)]);
    await changeRunStatus(tx, { runId, to: "Planning", reason: null, at: new Date() });
    await changeRunStatus(tx, { runId, to: "PlanningReview", reason: null, at: new Date() });
  });
  return runId;
}

async function quorumRepo(): Promise<string> {
  const repoPath = await h.repo();
  const put = await h.call("PUT", "/api/repos/governance", { repoPath, approvers: ["alice"], required: 1, planQuorum: { approvers: ["alice", "bob", "carol"], required: 2 } });
  expect(put.status).toBe(200);
  return repoPath;
}

const decision = async (runId: string) => (await h.db.pool.query(`SELECT decision, decided_by, reason FROM kodo.plan_approvals WHERE run_id = $1`, [runId])).rows[0];
const messages = async (runId: string) => Number((await h.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM dbos.notifications WHERE destination_uuid = $1`, [runId])).rows[0]?.n);

describe("a plan under a plan quorum (2 of 3)", () => {
  it("waits in PlanningReview after the first approval and is approved by the second", async () => {
    const runId = await runInReview(await quorumRepo());
    const approve = (actor?: string) => h.call<PlanDecisionResponse & ApiError>("POST", `/api/runs/${runId}/approve-plan`, { comment: `ok from ${actor}` }, actor);

    expect(await approve("mallory")).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN" } } });
    expect(await approve()).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN", details: { approver: "api" } } } });

    const first = await approve("alice");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "PlanningReview", planApprovedAt: null, planQuorum: { decision: null, required: 2, tally: { approvals: 1, code: "AWAITING_VOTES", outstanding: ["bob", "carol"] } } });
    expect(await decision(runId)).toBeUndefined();
    expect(await messages(runId)).toBe(0);
    // the same vote again is a retry; a changed one is refused
    expect((await approve("alice")).body.planQuorum?.tally.approvals).toBe(1);
    const changed = await h.call<ApiError>("POST", `/api/runs/${runId}/reject-plan`, { reason: "changed my mind" }, "alice");
    expect(changed).toMatchObject({ status: 409, body: { error: { code: "VOTE_CONFLICT" } } });

    const second = await approve("bob");
    expect(second.status).toBe(200);
    expect(second.body.planQuorum).toMatchObject({ decision: "approved", tally: { code: "QUORUM_REACHED", approvals: 2 } });
    expect(second.body.planApprovedAt).not.toBeNull();
    expect(await decision(runId)).toEqual({ decision: "approved", decided_by: "quorum of alice, bob", reason: "alice: ok from alice; bob: ok from bob" });
    expect(await messages(runId)).toBe(1);
    expect(await h.events("plan.vote_recorded")).toBeGreaterThanOrEqual(2);
    const votes = await h.call<PlanDecisionResponse["planQuorum"]>("GET", `/api/runs/${runId}/plan-votes`);
    expect(votes.body?.votes.map((vote) => [vote.approver, vote.vote])).toEqual([
      ["alice", "approve"],
      ["bob", "approve"],
    ]);
    // carol's late approval is answered like a repeated decision: nothing new is sent
    expect((await approve("carol")).status).toBe(200);
    expect(await messages(runId)).toBe(1);
  });

  it("is rejected once approval can no longer be reached", async () => {
    const runId = await runInReview(await quorumRepo());
    const reject = (actor: string) => h.call<PlanDecisionResponse>("POST", `/api/runs/${runId}/reject-plan`, { reason: `no from ${actor}` }, actor);
    expect((await reject("carol")).body.planQuorum).toMatchObject({ decision: null, tally: { rejections: 1 } });
    expect(await decision(runId)).toBeUndefined();
    const second = await reject("bob");
    expect(second.body.planQuorum).toMatchObject({ decision: "rejected", tally: { code: "QUORUM_UNREACHABLE" } });
    expect(await decision(runId)).toMatchObject({ decision: "rejected", decided_by: "quorum of carol, bob" });
    expect(await messages(runId)).toBe(1);
  });

  it("refuses auto-approved tasks in the repository", async () => {
    const answer = await h.call<ApiError>("POST", "/api/tasks", { title: "t", prompt: "p", repoPath: await quorumRepo(), planApproval: "auto" });
    expect(answer).toMatchObject({ status: 409, body: { error: { code: "PLAN_QUORUM_REQUIRED" } } });
  });
});

describe("a plan without a plan quorum", () => {
  it("is decided by one approval, as before (the actor header names the decider)", async () => {
    const runId = await runInReview(await h.repo());
    const approved = await h.call<PlanDecisionResponse>("POST", `/api/runs/${runId}/approve-plan`, undefined, "alice");
    expect(approved.status).toBe(200);
    expect(approved.body.planQuorum).toBeUndefined();
    expect(await decision(runId)).toMatchObject({ decision: "approved", decided_by: "alice" });
    expect(await messages(runId)).toBe(1);
  });
});
