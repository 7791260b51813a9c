/**
 * The permission bridge end to end: `kodo serve` with KODO_ASK_PERMISSIONS=bash (a person is asked
 * for every bash call the policy would allow), the scripted model, a real OpenCode. A build turn makes a bash call; the
 * ask waits in kodo.approvals and on /api/events, and is answered through the CLI (the command runs
 * and the run reaches Done) or by nobody (its deadline rejects it, the model is told, the run goes
 * on and ends). Waiting for a person longer than the stall limit does not fail the run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { Approval, ApprovalList, type ExecuteResponse, type Run, type StoredEvent, type Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { collectEvents, ok, until } from "../support/api.js";
import { CLI } from "../support/kodo-process.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";

const execFileAsync = promisify(execFile);
const STALL_MS = 10_000;
const COMMAND = "echo ran-after-approval | tee approved.txt";
const PATTERNS = ["echo ran-after-approval", "tee approved.txt"];

let stack: Stack;

beforeAll(async () => {
  const script = demoScriptWith({});
  script.rules.unshift(
    { name: "bash-ask", when: { user: "ASK-BASH", tool: "bash", toolResults: 0 }, reply: { toolCalls: [{ name: "bash", arguments: { command: COMMAND, description: "write approved.txt" } }] } },
    { name: "bash-ask-after", when: { user: "ASK-BASH", toolResults: 1 }, reply: { text: "Finished after the bash call." } },
  );
  stack = await startStack({ prefix: "kodo-approvals-", script, env: { KODO_ASK_PERMISSIONS: "bash", KODO_AGENT_STALL_MS: String(STALL_MS) } });
}, 180_000);

afterAll(() => stopStack(stack), 120_000);

async function start(extra: Record<string, unknown> = {}): Promise<{ runId: string; events: StoredEvent[]; close: () => void }> {
  // The task's policy allows the pipeline (`tee` is not on the default allowlist); KODO_ASK_PERMISSIONS=bash still sends it to a person.
  const policy = { version: 1, rules: [{ id: "allow-bash", tool: "bash", action: "run", effect: "allow" }] };
  const task = await ok<Task>(stack.kodo.url, "POST", "/api/tasks", { title: "Ask before bash", prompt: `${DEMO_TASK.prompt} ASK-BASH`, repoPath: stack.repo, planApproval: "auto", policy, ...extra });
  const live = collectEvents(`${stack.kodo.url}/api/events?taskId=${task.id}`);
  const { runId } = await ok<ExecuteResponse>(stack.kodo.url, "POST", `/api/tasks/${task.id}/execute`);
  return { runId, events: live.events, close: live.close };
}

async function kodo(...args: string[]): Promise<unknown> {
  const { stdout } = await execFileAsync(process.execPath, [CLI, ...args, "--json"], { env: { ...process.env, KODO_HOME: stack.home }, timeout: 30_000 });
  return JSON.parse(stdout);
}

function pendingOf(runId: string): Promise<Approval> {
  return until(`a pending approval of ${runId}`, async () => {
    const { approvals } = ApprovalList.parse(await ok(stack.kodo.url, "GET", `/api/approvals?runId=${runId}`));
    return approvals[0];
  }, 180_000);
}

/** What the model was told about its bash call (the scripted model's log). */
function toolResults(): string[] {
  return stack.model.stats().log.filter((entry) => entry.rule === "bash-ask-after").map((entry) => entry.lastToolResult ?? "");
}

describe("an agent's bash call waits for a person", () => {
  it("answered once through the CLI: the command runs and the run reaches Done, though the wait outlasted the stall limit", async () => {
    const { runId, events, close } = await start();
    try {
      const pending = await pendingOf(runId);
      // OpenCode asks once per call, with one pattern per command of the pipeline
      expect(pending).toMatchObject({ kind: "permission", permission: "bash", patterns: PATTERNS, metadata: { command: COMMAND }, status: "pending", decidedByPolicy: { action: "ask" } });
      const listed = ApprovalList.parse(await kodo("approvals", "--run", runId));
      expect(listed.approvals.map((approval) => approval.id)).toEqual([pending.id]);

      // longer than the stall limit: the run must still be waiting, not failed
      await new Promise((resolve) => setTimeout(resolve, STALL_MS + 3_000));
      expect((await ok<Run>(stack.kodo.url, "GET", `/api/runs/${runId}`)).status).toBe("InProgress");

      const answered = Approval.parse(await kodo("answer", pending.id, "once"));
      expect(answered).toMatchObject({ status: "answered", decision: "once" });
      const run = await runEnded(stack.kodo.url, runId);
      expect(run.error).toBeNull();
      expect(run.status).toBe("Done");
      expect(readFileSync(path.join(run.worktreePath!, "approved.txt"), "utf8")).toBe("ran-after-approval\n");
      expect(toolResults().some((result) => result.includes("ran-after-approval"))).toBe(true);

      const row = Approval.parse(await ok(stack.kodo.url, "GET", `/api/approvals/${pending.id}`));
      expect(row.deliveredAt).not.toBeNull();
      expect(row.deliveryError).toBeNull();
      await until("the approval events on /api/events", async () => (events.some((stored) => stored.event.type === "approval.answered") ? true : undefined), 30_000);
      const approvalEvents = events.filter((stored) => stored.event.type.startsWith("approval."));
      expect(approvalEvents.map((stored) => stored.event)).toEqual([
        expect.objectContaining({ type: "approval.requested", runId, approvalId: pending.id, permission: "bash", patterns: PATTERNS }),
        expect.objectContaining({ type: "approval.answered", runId, approvalId: pending.id, decision: "once", byDeadline: false, expired: false }),
      ]);
    } finally {
      close();
    }
  });

  it("unanswered: the deadline rejects it, the model is told so, and the run goes on to the end", async () => {
    const { runId, events, close } = await start({ approvalTimeoutSeconds: 3 });
    try {
      const pending = await pendingOf(runId);
      expect(new Date(pending.deadlineAt).getTime() - new Date(pending.createdAt).getTime()).toBe(3_000);
      const run = await runEnded(stack.kodo.url, runId);
      expect(run.error).toBeNull();
      expect(run.status).toBe("Done");
      expect(existsSync(path.join(run.worktreePath!, "approved.txt"))).toBe(false);
      expect(toolResults().some((result) => result.includes("nobody answered within 3 s; denied — continue without it"))).toBe(true);

      const row = Approval.parse(await ok(stack.kodo.url, "GET", `/api/approvals/${pending.id}`));
      expect(row).toMatchObject({ status: "answered", decision: "reject", answeredBy: "kodo:deadline" });
      expect(row.deliveredAt).not.toBeNull();
      await until("the deadline's event on /api/events", async () => (events.some((stored) => stored.event.type === "approval.answered") ? true : undefined), 30_000);
      expect(events.filter((stored) => stored.event.type.startsWith("approval.")).map((stored) => stored.event)).toEqual([
        expect.objectContaining({ type: "approval.requested", approvalId: pending.id }),
        expect.objectContaining({ type: "approval.answered", approvalId: pending.id, decision: "reject", answeredBy: "kodo:deadline", byDeadline: true }),
      ]);
      // too late now: the CLI reports the conflict (exit 4)
      const late = await execFileAsync(process.execPath, [CLI, "answer", pending.id, "once"], { env: { ...process.env, KODO_HOME: stack.home }, timeout: 30_000 }).then(
        () => 0,
        (error: { code?: number; stderr?: string }) => {
          expect(error.stderr).toContain("APPROVAL_NOT_PENDING");
          return error.code;
        },
      );
      expect(late).toBe(4);
    } finally {
      close();
    }
  });
});
