/** Valid API documents (checked with the contract schemas) for stub servers. */
import { Run, StoredEvent, Task, type KodoEvent } from "@kodo/contracts";

const AT = "2025-01-02T03:04:05.000Z";
const ZERO_USAGE = { calls: 0, tokensInput: 0, tokensOutput: 0, tokensReasoning: 0, tokensCacheRead: 0, tokensCacheWrite: 0, costUsd: 0 };

export function makeTask(overrides: Partial<Task> = {}): Task {
  return Task.parse({
    id: "tsk_abc123",
    title: "Add slugify",
    prompt: "Add slugify(text)",
    repoPath: "/tmp/repo",
    baseRef: "HEAD",
    status: "Todo",
    currentRunId: null,
    planApproval: "manual",
    verify: null,
    budget: null,
    createdAt: AT,
    updatedAt: AT,
    usage: ZERO_USAGE,
    ...overrides,
  });
}

export function makeRun(overrides: Partial<Run> = {}): Run {
  return Run.parse({
    id: "run_abc123",
    taskId: "tsk_abc123",
    workflowId: "wf-run_abc123",
    status: "Planning",
    branch: "kodo/add-slugify",
    worktreePath: "/tmp/worktrees/run_abc123",
    baseCommit: "0123456789abcdef",
    headCommit: null,
    sessionId: "ses_1",
    plan: null,
    planApprovedAt: null,
    review: null,
    error: null,
    history: [{ from: null, to: "Planning", reason: "execute", at: AT }],
    attempts: [],
    modelCalls: [],
    artifacts: [],
    usage: ZERO_USAGE,
    createdAt: AT,
    updatedAt: AT,
    finishedAt: null,
    ...overrides,
  });
}

export function stored(id: number, event: KodoEvent): StoredEvent {
  return StoredEvent.parse({ id, at: AT, event });
}

export function statusChanged(id: number, from: Run["status"] | null, to: Run["status"], runId = "run_abc123"): StoredEvent {
  return stored(id, { type: "task.status_changed", taskId: "tsk_abc123", runId, from, to, reason: null });
}

/** One SSE frame as kodo writes it. */
export function sseFrame(event: StoredEvent): string {
  return `id: ${event.id}\nevent: ${event.event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function readyFrame(lastEventId: number): string {
  return `event: ready\ndata: ${JSON.stringify({ lastEventId })}\n\n`;
}
