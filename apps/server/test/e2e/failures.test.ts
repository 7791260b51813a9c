/**
 * Runs that must end honestly, with the right code, against the real stack: a plan that is never
 * valid, an agent that stalls, a plan nobody decides on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, until } from "../support/api.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";

let stack: Stack;

beforeAll(async () => {
  const script = demoScriptWith({});
  const invalidPlan = { summary: "", steps: [], files: [], risks: [], tests: [] };
  script.rules.unshift(
    { name: "plan-bad", when: { user: "BAD-PLAN", tool: "StructuredOutput", toolResults: 0 }, reply: { toolCalls: [{ name: "StructuredOutput", arguments: invalidPlan }] } },
    { name: "plan-bad-after-error", when: { user: "BAD-PLAN", toolResults: 1 }, reply: { text: "I cannot make a plan." } },
    { name: "build-stall", when: { user: "STALL-BUILD", tool: "write", toolResults: 0 }, reply: { hang: true } },
  );
  stack = await startStack({ prefix: "kodo-failures-", script, env: { KODO_AGENT_STALL_MS: "10000", KODO_PLAN_ATTEMPTS: "2" } });
}, 180_000);

afterAll(() => stopStack(stack), 120_000);

async function start(prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
  const task = await ok<Task>(stack.kodo.url, "POST", "/api/tasks", { title: "Failure case", prompt, repoPath: stack.repo, ...extra });
  return (await ok<ExecuteResponse>(stack.kodo.url, "POST", `/api/tasks/${task.id}/execute`)).runId;
}

const ended = (runId: string): Promise<Run> => runEnded(stack.kodo.url, runId);

describe("runs that cannot succeed end with a code, and nothing hangs", () => {
  it("a plan that is never valid is retried within CompilePlan, then fails PLAN_INVALID with a stored diagnostic", async () => {
    const run = await ended(await start(`${DEMO_TASK.prompt} BAD-PLAN`));
    expect(run.status).toBe("Failed");
    expect(run.error?.code).toBe("PLAN_INVALID");
    expect(run.plan).toBeNull();
    const diagnostic = run.artifacts.find((artifact) => artifact.name === "diagnostic.json");
    expect(diagnostic).toBeDefined();
    const content = JSON.parse(readFileSync(diagnostic!.path, "utf8")) as { attempts: number; problems: string[] };
    expect(content.attempts).toBe(2);
    expect(content.problems).toHaveLength(2);
    // every attempt is its own ledger row (its own op_key); none is left pending
    expect(run.modelCalls.filter((call) => call.stepId === "CompilePlan")).toHaveLength(2);
    expect(run.modelCalls.every((call) => call.status !== "pending")).toBe(true);
    expect(run.history.map((change) => change.to)).toEqual(["Planning", "Failed"]);
  });

  it("an agent that makes no progress is aborted and the run fails AGENT_STALLED", async () => {
    const runId = await start(`${DEMO_TASK.prompt} STALL-BUILD`);
    await until("PlanningReview", async () => ((await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));
    await ok(stack.kodo.url, "POST", `/api/runs/${runId}/approve-plan`);
    const run = await ended(runId);
    expect(run.status).toBe("Failed");
    expect(run.error?.code).toBe("AGENT_STALLED");
    expect(stack.model.stats().byRule["build-stall"]).toBeGreaterThanOrEqual(1);
    const build = run.modelCalls.filter((call) => call.stepId === "Build");
    expect(build.length).toBeGreaterThanOrEqual(1);
    expect(build.every((call) => call.status === "failed")).toBe(true);
    // nothing was written by the stalled turn
    expect(existsSync(path.join(run.worktreePath!, "src", "slugify.js"))).toBe(false);
  });

  it("a plan nobody decides on fails PLAN_DECISION_TIMEOUT at its deadline", async () => {
    const run = await ended(await start(DEMO_TASK.prompt, { planDecisionTimeoutSeconds: 3 }));
    expect(run.status).toBe("Failed");
    expect(run.error?.code).toBe("PLAN_DECISION_TIMEOUT");
    expect(run.history.map((change) => change.to)).toEqual(["Planning", "PlanningReview", "Failed"]);
    expect(run.planApprovedAt).toBeNull();
  });
});
