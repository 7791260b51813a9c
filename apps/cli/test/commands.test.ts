import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Run, StoredEvent, Task, type KodoEvent } from "@kodo/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { makeRun, makeTask } from "./support/fixtures.js";
import { startKodoStub, type KodoStub } from "./support/kodo-stub.js";
import { memoryIo, type MemoryIo } from "./support/memory-io.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("client commands against a stub kodo API", { timeout: 15_000 }, () => {
  let stub: KodoStub;
  let io: MemoryIo;
  const kodo = (...argv: string[]) => runCli(argv, io);

  beforeEach(async () => {
    stub = await startKodoStub();
    io = memoryIo({ KODO_URL: stub.url, KODO_HOME: "/nonexistent" }, "/work/here");
  });
  afterEach(async () => {
    await stub.close();
  });

  it("task create --json prints the created task and sends an absolute repo path", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-"));
    try {
      await writeFile(path.join(dir, "prompt.md"), "Add slugify(text)\n");
      io = memoryIo({ KODO_URL: stub.url }, dir);
      const code = await kodo("task", "create", "--repo", "repo", "--title", "Add slugify", "--prompt-file", "prompt.md", "--auto-approve", "--json");
      expect(code).toBe(0);
      const task = Task.parse(io.json());
      expect(task.planApproval).toBe("auto");
      expect(io.err).toEqual([]);
      expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ title: "Add slugify", prompt: "Add slugify(text)\n", repoPath: path.join(dir, "repo"), planApproval: "auto" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("task create sends the task's policy file and budget; a broken policy or budget is refused before any request", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-"));
    try {
      await writeFile(path.join(dir, "narrow.yaml"), "version: 1\nrules:\n  - id: no-npm\n    tool: bash\n    action: run\n    effect: deny\n");
      await writeFile(path.join(dir, "broken.yaml"), "version: 1\nrules:\n  - id: x\n    tool: bash\n    effect: maybe\n");
      io = memoryIo({ KODO_URL: stub.url }, dir);
      const base = ["task", "create", "--repo", ".", "--title", "t", "--prompt", "p"];
      expect(await kodo(...base, "--policy", "narrow.yaml", "--budget-tokens", "5000", "--budget-cost", "1.25", "--budget-builds", "2", "--json")).toBe(0);
      expect(JSON.parse(stub.requests[0]?.body ?? "")).toMatchObject({
        policy: { version: 1, rules: [{ id: "no-npm", tool: "bash", action: "run", effect: "deny" }] },
        budget: { maxTokens: 5000, maxCostUsd: 1.25, maxBuildAttempts: 2 },
      });
      expect(await kodo(...base, "--policy", "broken.yaml")).toBe(2);
      expect(io.err.join("\n")).toMatch(/broken\.yaml:\d+:\d+/);
      expect(await kodo(...base, "--budget-cost", "lots")).toBe(2);
      expect(stub.requests).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("task create needs exactly one of --prompt and --prompt-file (exit 2, no request)", async () => {
    expect(await kodo("task", "create", "--repo", ".", "--title", "t")).toBe(2);
    expect(io.err[0]).toBe("kodo: USAGE: --prompt or --prompt-file is required");
    expect(io.err[1]).toContain("Usage: kodo task create");
    expect(await kodo("task", "create", "--repo", ".", "--title", "t", "--prompt", "p", "--prompt-file", "f")).toBe(2);
    expect(stub.requests).toEqual([]);
  });

  it("task list --json prints {tasks}; the human table has one row per task", async () => {
    stub.tasks.set("tsk_aaaaaa", makeTask({ id: "tsk_aaaaaa", status: "Done" }));
    stub.tasks.set("tsk_bbbbbb", makeTask({ id: "tsk_bbbbbb", status: "Todo" }));
    expect(await kodo("task", "list", "--status", "done", "--json")).toBe(0);
    expect(io.json()).toEqual({ tasks: [stub.tasks.get("tsk_aaaaaa")] });
    expect(stub.requests[0]?.path).toBe("/api/tasks?status=Done");
    io.out.length = 0;
    expect(await kodo("task", "list")).toBe(0);
    expect(io.out).toHaveLength(3);
    expect(io.out[0]).toMatch(/^ID\s+STATUS\s+UPDATED\s+TITLE$/);
  });

  it("task show --json prints the task with its current run", async () => {
    const run = makeRun({ status: "PlanningReview", plan: { summary: "Add it", steps: ["write it"], files: ["src/slugify.js"], risks: [], tests: ["slugify.test.js"] } });
    stub.runs.set(run.id, run);
    stub.tasks.set("tsk_abc123", makeTask({ currentRunId: run.id, status: "PlanningReview" }));
    expect(await kodo("task", "show", "tsk_abc123", "--json")).toBe(0);
    const shown = io.json() as { task: unknown; run: unknown };
    expect(Task.parse(shown.task).id).toBe("tsk_abc123");
    expect(Run.parse(shown.run).plan?.summary).toBe("Add it");
    io.out.length = 0;
    expect(await kodo("task", "show", "tsk_abc123")).toBe(0);
    const text = io.stdoutText();
    expect(text).toContain("plan: Add it");
    expect(text).toContain(`kodo approve ${run.id}`);
  });

  it("a missing task exits 3; with --json the error is the one document on stdout", async () => {
    expect(await kodo("task", "show", "tsk_missing")).toBe(3);
    expect(io.err).toEqual(["kodo: NOT_FOUND: task tsk_missing not found"]);
    io = memoryIo({ KODO_URL: stub.url });
    expect(await kodo("task", "show", "tsk_missing", "--json")).toBe(3);
    expect(io.json()).toEqual({ error: { code: "NOT_FOUND", message: "task tsk_missing not found" } });
    expect(io.err).toEqual([]);
  });

  it("approve prints the run; approving a run that does not wait exits 4", async () => {
    stub.runs.set("run_abc123", makeRun({ status: "PlanningReview" }));
    expect(await kodo("approve", "run_abc123", "--comment", "ok", "--json")).toBe(0);
    expect(Run.parse(io.json()).status).toBe("InProgress");
    expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ comment: "ok" });
    expect(await kodo("approve", "run_abc123")).toBe(4);
    expect(io.err.at(-1)).toBe("kodo: RUN_NOT_WAITING: run run_abc123 is InProgress");
  });

  it("reject needs --reason (exit 2) and sends it", async () => {
    stub.runs.set("run_abc123", makeRun({ status: "PlanningReview" }));
    expect(await kodo("reject", "run_abc123")).toBe(2);
    expect(stub.requests).toEqual([]);
    expect(await kodo("reject", "run_abc123", "--reason", "too broad")).toBe(0);
    expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ reason: "too broad" });
    expect(io.out.at(-1)).toBe("plan of run run_abc123 rejected: too broad");
  });

  it("task cancel cancels the current run, and exits 4 when there is none", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    expect(await kodo("task", "cancel", "tsk_abc123")).toBe(4);
    expect(io.err.at(-1)).toContain("NO_RUN");
    stub.runs.set("run_abc123", makeRun({ status: "InProgress" }));
    stub.tasks.set("tsk_abc123", makeTask({ currentRunId: "run_abc123" }));
    expect(await kodo("task", "cancel", "tsk_abc123", "--json")).toBe(0);
    expect(Run.parse(io.json()).status).toBe("Cancelled");
    expect(stub.requests.at(-1)?.path).toBe("/api/runs/run_abc123/cancel");
  });

  it("task run without --wait prints the execute response", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    expect(await kodo("task", "run", "tsk_abc123", "--json")).toBe(0);
    expect(io.json()).toEqual({ runId: "run_ofabc123", taskId: "tsk_abc123", status: "Todo" });
  });

  const progress = (runId: string, steps: [from: Run["status"] | null, to: Run["status"]][]): KodoEvent[] =>
    steps.map(([from, to]) => ({ type: "task.status_changed", taskId: "tsk_abc123", runId, from, to, reason: null }));

  async function drive(events: KodoEvent[]): Promise<void> {
    await stub.streamOpen();
    for (const event of events) {
      await pause(10);
      stub.emit(event);
    }
  }

  it("task run --wait follows events until the plan waits for approval (exit 0)", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    const runId = "run_ofabc123";
    const waiting = kodo("task", "run", "tsk_abc123", "--wait");
    await drive([
      ...progress(runId, [["Todo", "Planning"]]),
      { type: "session.started", taskId: "tsk_abc123", runId, sessionId: "ses_1" },
      {
        type: "session.activity",
        taskId: "tsk_abc123",
        runId,
        sessionId: "ses_1",
        item: { seq: 1, sessionId: "ses_1", itemId: "prt_1", messageId: "msg_1", kind: "tool", data: { tool: "read", state: "completed", text: null }, updatedAt: "2025-01-02T03:04:05.000Z" },
      },
      { type: "model.call_completed", taskId: "tsk_abc123", runId, stepId: "plan", opKey: "k", tokensInput: 1200, tokensOutput: 80, costUsd: 0.0048 },
      ...progress(runId, [["Planning", "PlanningReview"]]),
    ]);
    expect(await waiting).toBe(0);
    const text = io.stdoutText();
    expect(text).toMatch(/status\s+Todo → Planning/);
    expect(text).toMatch(/session\s+started ses_1/);
    expect(text).toMatch(/agent\s+tool read completed/);
    expect(text).toMatch(/model\s+plan {2}in 1200 {2}out 80 {2}\$0\.0048/);
    expect(text).toContain(`kodo approve ${runId}`);
  });

  it("task run --wait --json prints the final run and exits 1 when it fails", async () => {
    stub.tasks.set("tsk_abc123", makeTask({ planApproval: "auto" }));
    const runId = "run_ofabc123";
    const waiting = kodo("task", "run", "tsk_abc123", "--wait", "--json");
    // with auto approval, PlanningReview is passed through, not waited on
    await drive(progress(runId, [["Todo", "Planning"], ["Planning", "PlanningReview"], ["PlanningReview", "InProgress"], ["InProgress", "Failed"]]));
    expect(await waiting).toBe(1);
    const run = Run.parse(io.json());
    expect(run.status).toBe("Failed");
    expect(run.history.map((change) => change.to)).toEqual(["Planning", "PlanningReview", "InProgress", "Failed"]);
    expect(io.err).toEqual([]);
  });

  it("task run --wait does not wait for a run that ended before the stream opened", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    stub.emit({ type: "task.created", taskId: "tsk_abc123", title: "x" });
    const original = stub.runs.set.bind(stub.runs);
    // the run is Done by the time the CLI looks (as if it raced through before the stream opened)
    stub.runs.set = (key, value) => original(key, { ...value, status: "Done" });
    expect(await kodo("task", "run", "tsk_abc123", "--wait")).toBe(0);
    expect(io.stdoutText()).toContain("run run_ofabc123  Done");
  });

  it("Ctrl-C while waiting exits 130 and says the run goes on", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    const waiting = kodo("task", "run", "tsk_abc123", "--wait");
    await stub.streamOpen();
    await pause(20);
    io.interruptNow();
    expect(await waiting).toBe(130);
    expect(io.err.at(-1)).toContain("kodo logs run_ofabc123 --follow");
  });

  it("logs prints a time-ordered timeline of history, model calls and activity", async () => {
    stub.runs.set(
      "run_abc123",
      makeRun({
        status: "Done",
        history: [
          { from: null, to: "Planning", reason: "execute", at: "2025-01-02T03:00:00.000Z" },
          { from: "Planning", to: "Done", reason: null, at: "2025-01-02T03:00:09.000Z" },
        ],
        modelCalls: [
          { opKey: "k1", stepId: "plan", attempt: 1, agent: "plan", status: "completed", modelId: "m", tokensInput: 10, tokensOutput: 2, tokensReasoning: 0, tokensCacheRead: 0, tokensCacheWrite: 0, costUsd: 0.01, durationMs: 5, createdAt: "2025-01-02T03:00:03.000Z" },
        ],
      }),
    );
    stub.activity.push(
      { seq: 1, sessionId: "ses_1", itemId: "p1", messageId: "m1", kind: "text", data: { text: "I will add   slugify\nnow" }, updatedAt: "2025-01-02T03:00:05.000Z" },
      { seq: 2, sessionId: "ses_1", itemId: "p2", messageId: "m1", kind: "text", data: { text: "" }, updatedAt: "2025-01-02T03:00:06.000Z" },
    );
    expect(await kodo("logs", "run_abc123")).toBe(0);
    expect(io.out[0]).toBe("run run_abc123 of task tsk_abc123: Done");
    const labels = io.out.slice(1, 5).map((line) => line.split(/\s+/)[1]);
    expect(labels).toEqual(["status", "model", "agent", "status"]);
    expect(io.out[3]).toContain('text "I will add slugify now"');
    expect(io.out[5]).toBe("the change is in /tmp/worktrees/run_abc123 (branch kodo/add-slugify)");
  });

  it("logs --follow --json replays the run's events from the start and ends with the run", async () => {
    stub.runs.set("run_abc123", makeRun({ status: "InProgress" }));
    stub.emit(progress("run_abc123", [["Todo", "Planning"]])[0] as KodoEvent);
    stub.emit({ type: "task.created", taskId: "tsk_other1", title: "not this run" });
    const following = kodo("logs", "run_abc123", "--follow", "--json");
    await drive(progress("run_abc123", [["Planning", "InProgress"], ["InProgress", "Done"]]));
    expect(await following).toBe(0);
    const document = io.json() as { runId: string; status: string; finished: boolean; events: unknown[] };
    expect(document).toMatchObject({ runId: "run_abc123", status: "Done", finished: true });
    expect(document.events.map((event) => StoredEvent.parse(event).id)).toEqual([1, 3, 4]);
    expect(stub.requests.find((request) => request.path.startsWith("/api/events"))?.headers["last-event-id"]).toBe("0");
  });

  it("logs --follow keeps following through PlanningReview, saying what to do, until the run ends", async () => {
    stub.runs.set("run_abc123", makeRun({ status: "Planning" }));
    const following = kodo("logs", "run_abc123", "--follow");
    await drive(progress("run_abc123", [["Planning", "PlanningReview"], ["PlanningReview", "Rejected"]]));
    expect(await following).toBe(0);
    const text = io.stdoutText();
    expect(text).toContain("kodo approve run_abc123   or   kodo reject run_abc123");
    expect(io.out.at(-1)).toBe("run run_abc123 ended Rejected");
  });

  it("logs --follow ends cleanly (exit 0) on Ctrl-C", async () => {
    stub.runs.set("run_abc123", makeRun({ status: "InProgress" }));
    const following = kodo("logs", "run_abc123", "--follow");
    await stub.streamOpen();
    io.interruptNow();
    expect(await following).toBe(0);
  });
});
