/**
 * A stand-in kodo API on a real node:http server: tasks, runs, activity and the event stream
 * (with `ready`, Last-Event-ID replay and live events), enough to drive every client command.
 */
import type { ServerResponse } from "node:http";
import type { ActivityItem, KodoEvent, Run, StoredEvent, Task } from "@kodo/contracts";
import { makeRun, makeTask, readyFrame, sseFrame, stored } from "./fixtures.js";
import { sendJson, startHttpStub, type HttpStub } from "./http-stub.js";

export interface KodoStub extends HttpStub {
  tasks: Map<string, Task>;
  runs: Map<string, Run>;
  activity: ActivityItem[];
  log: StoredEvent[];
  /** appends an event to the log, applies status changes to its run and task, streams it */
  emit(event: KodoEvent): StoredEvent;
  /** resolves when the n-th event stream connection (1-based) is open and caught up */
  streamOpen(n?: number): Promise<void>;
}

const notFound = (response: ServerResponse, what: string): void => sendJson(response, 404, { error: { code: "NOT_FOUND", message: `${what} not found` } });

export async function startKodoStub(): Promise<KodoStub> {
  const tasks = new Map<string, Task>();
  const runs = new Map<string, Run>();
  const activity: ActivityItem[] = [];
  const log: StoredEvent[] = [];
  const streams = new Set<{ response: ServerResponse; runId: string | null }>();
  let connections = 0;
  const waiters: { n: number; resolve: () => void }[] = [];

  const write = (response: ServerResponse, runId: string | null, event: StoredEvent): void => {
    if (runId !== null && (!("runId" in event.event) || event.event.runId !== runId)) return;
    response.write(sseFrame(event));
  };

  const stub = await startHttpStub((request, response) => {
    const url = new URL(request.path, "http://stub");
    const parts = url.pathname.split("/").filter(Boolean); // api, tasks, id, action
    const body = request.body === "" ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    const id = parts[2] ?? "";
    if (parts[1] === "tasks" && parts.length === 2 && request.method === "POST") {
      const task = makeTask({ id: `tsk_new${tasks.size + 1}xx`, title: String(body["title"]), prompt: String(body["prompt"]), repoPath: String(body["repoPath"]), planApproval: body["planApproval"] === "auto" ? "auto" : "manual" });
      tasks.set(task.id, task);
      return sendJson(response, 201, task);
    }
    if (parts[1] === "tasks" && parts.length === 2) {
      const status = url.searchParams.get("status");
      return sendJson(response, 200, { tasks: [...tasks.values()].filter((task) => status === null || task.status === status) });
    }
    if (parts[1] === "tasks") {
      const task = tasks.get(id);
      if (task === undefined) return notFound(response, `task ${id}`);
      if (parts[3] === "execute") {
        const run = makeRun({ id: `run_of${task.id.slice(4)}`, taskId: task.id, status: "Todo", history: [] });
        runs.set(run.id, run);
        tasks.set(task.id, { ...task, currentRunId: run.id });
        return sendJson(response, 202, { runId: run.id, taskId: task.id, status: run.status });
      }
      return sendJson(response, 200, task);
    }
    if (parts[1] === "runs") {
      const run = runs.get(id);
      if (run === undefined) return notFound(response, `run ${id}`);
      const action = parts[3];
      if (action === undefined) return sendJson(response, 200, run);
      if (action === "approve-plan" || action === "reject-plan") {
        if (run.status !== "PlanningReview") return sendJson(response, 409, { error: { code: "RUN_NOT_WAITING", message: `run ${id} is ${run.status}` } });
        if (action === "reject-plan" && typeof body["reason"] !== "string") return sendJson(response, 400, { error: { code: "VALIDATION_FAILED", message: "reason: Required" } });
        const next: Run = { ...run, status: action === "approve-plan" ? "InProgress" : "Rejected" };
        runs.set(id, next);
        return sendJson(response, 200, next);
      }
      if (action === "cancel") {
        const next: Run = { ...run, status: "Cancelled" };
        runs.set(id, next);
        return sendJson(response, 200, next);
      }
    }
    if (parts[1] === "sessions" && parts[3] === "activity") {
      const after = Number(url.searchParams.get("after") ?? 0);
      return sendJson(response, 200, { items: activity.filter((item) => item.sessionId === id && item.seq > after) });
    }
    if (parts[1] === "events") {
      const header = request.headers["last-event-id"];
      const lastId = log.at(-1)?.id ?? 0;
      const resume = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : lastId;
      const runId = url.searchParams.get("runId");
      response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      response.write(readyFrame(resume));
      for (const event of log.filter((entry) => entry.id > resume)) write(response, runId, event);
      const entry = { response, runId };
      streams.add(entry);
      response.on("close", () => streams.delete(entry));
      connections += 1;
      for (const waiter of waiters.filter((candidate) => candidate.n <= connections)) waiter.resolve();
      return;
    }
    return notFound(response, `route ${request.method} ${url.pathname}`);
  });

  return {
    ...stub,
    tasks,
    runs,
    activity,
    log,
    emit(event) {
      const entry = stored((log.at(-1)?.id ?? 0) + 1, event);
      log.push(entry);
      if (event.type === "task.status_changed" && event.runId !== null) {
        const run = runs.get(event.runId);
        if (run !== undefined) {
          const change = { from: event.from, to: event.to, reason: event.reason, at: entry.at };
          runs.set(run.id, { ...run, status: event.to, history: [...run.history, change] });
        }
        const task = tasks.get(event.taskId);
        if (task !== undefined) tasks.set(task.id, { ...task, status: event.to });
      }
      for (const stream of streams) write(stream.response, stream.runId, entry);
      return entry;
    },
    streamOpen(n = 1) {
      if (connections >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: async () => {
      for (const stream of streams) stream.response.destroy();
      await stub.close();
    },
  };
}
