/**
 * A plan quorum against the real stack (`kodo serve`, DBOS worker, OpenCode, scripted model), set
 * and voted through the built CLI with `--as`: the first approval leaves the run in PlanningReview,
 * the second moves it on to the build and Done.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ExecuteResponse, Governance, PlanDecisionResponse, Run, Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, until } from "../support/api.js";
import { CLI } from "../support/kodo-process.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";

const execFileAsync = promisify(execFile);
let stack: Stack;

/** `kodo …` (the built CLI) against the stack; resolves with its exit code and parsed --json output. */
async function kodo<T>(...argv: string[]): Promise<{ code: number; json: T }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, [CLI, ...argv, "--json", "--url", stack.kodo.url], { env: { ...process.env, KODO_HOME: stack.home } });
    return { code: 0, json: JSON.parse(stdout) as T };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, json: JSON.parse(failed.stdout ?? "null") as T };
  }
}

beforeAll(async () => {
  stack = await startStack({ prefix: "kodo-plan-quorum-", script: demoScriptWith({}) });
}, 180_000);

afterAll(() => stopStack(stack), 120_000);

describe("a plan quorum of 2 of 3, end to end", () => {
  it("keeps the run in PlanningReview after one approval; the second starts the build", async () => {
    const set = await kodo<Governance>("governance", "set", "--repo", stack.repo, "--approvers", "alice,bob", "--required", "2", "--plan-approvers", "alice,bob,carol", "--plan-required", "2", "--as", "admin");
    expect(set.code).toBe(0);
    expect(set.json).toMatchObject({ planQuorum: { approvers: ["alice", "bob", "carol"], required: 2 }, updatedBy: "admin" });

    const task = await ok<Task>(stack.kodo.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: stack.repo });
    const { runId } = await ok<ExecuteResponse>(stack.kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    await until("PlanningReview", async () => ((await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));

    const stranger = await kodo<{ error: { code: string } }>("approve", runId, "--as", "mallory");
    expect(stranger).toMatchObject({ code: 1, json: { error: { code: "FORBIDDEN" } } });

    const first = await kodo<PlanDecisionResponse>("approve", runId, "--as", "alice", "--comment", "looks right");
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ status: "PlanningReview", planQuorum: { decision: null, tally: { approvals: 1, required: 2 } } });
    // Given time, nothing moves: the workflow still waits for the decision.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const waiting = await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`);
    expect(waiting.status).toBe("PlanningReview");
    expect(waiting.planApprovedAt).toBeNull();

    const second = await kodo<PlanDecisionResponse>("approve", runId, "--as", "bob");
    expect(second.code).toBe(0);
    expect(second.json.planQuorum).toMatchObject({ decision: "approved", tally: { approvals: 2 } });

    const done = await runEnded(stack.kodo.url, runId);
    expect(done.status).toBe("Done");
    expect(done.history.map((change) => change.to)).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);
    expect(new Date(done.planApprovedAt ?? 0).getTime()).toBeGreaterThan(new Date(waiting.updatedAt).getTime());
  });
});
