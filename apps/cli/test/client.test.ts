import { afterEach, describe, expect, it } from "vitest";
import { KodoClient, type EventItem } from "../src/client.js";
import { CliError } from "../src/errors.js";
import { makeRun, makeTask, readyFrame, sseFrame, statusChanged, stored } from "./support/fixtures.js";
import { closedPort, sendJson, startHttpStub, type HttpStub } from "./support/http-stub.js";

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe("KodoClient against a real HTTP server", { timeout: 15_000 }, () => {
  let stub: HttpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it("sends typed requests and parses answers with the contract schemas", async () => {
    const task = makeTask();
    stub = await startHttpStub((request, response) => {
      if (request.method === "POST" && request.path === "/api/tasks") sendJson(response, 201, task);
      else if (request.path.startsWith("/api/tasks?")) sendJson(response, 200, { tasks: [task] });
      else if (request.path === "/api/runs/run_abc123/approve-plan") sendJson(response, 200, makeRun({ status: "InProgress" }));
      else sendJson(response, 404, { error: { code: "NOT_FOUND", message: "nope" } });
    });
    const client = new KodoClient({ baseUrl: `${stub.url}/` });
    expect(await client.createTask({ title: "t", prompt: "p", repoPath: "/r", planApproval: "auto" })).toEqual(task);
    expect(await client.listTasks({ status: "Todo", limit: 5 })).toEqual([task]);
    expect((await client.approvePlan("run_abc123", "looks good")).status).toBe("InProgress");
    expect(stub.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "POST /api/tasks",
      "GET /api/tasks?status=Todo&limit=5",
      "POST /api/runs/run_abc123/approve-plan",
    ]);
    expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ title: "t", prompt: "p", repoPath: "/r", planApproval: "auto" });
    expect(JSON.parse(stub.requests[2]?.body ?? "")).toEqual({ comment: "looks good" });
    expect(stub.requests[0]?.headers["content-type"]).toBe("application/json");
  });

  it.each([
    [404, "NOT_FOUND", 3],
    [409, "RUN_NOT_WAITING", 4],
    [422, "REPO_DIRTY", 4],
    [400, "VALIDATION_FAILED", 4],
    [500, "INTERNAL", 1],
    [503, "DB_UNAVAILABLE", 5],
  ])("maps an HTTP %i error body to its code %s and exit code %i", async (status, code, exitCode) => {
    stub = await startHttpStub((_request, response) =>
      sendJson(response, status, { error: { code, message: `the server says ${code}`, retryable: false, details: { field: "title" } } }),
    );
    const error = await failure(new KodoClient({ baseUrl: stub.url }).getTask("tsk_x"));
    expect(error.code).toBe(code);
    expect(error.message).toBe(`the server says ${code}`);
    expect(error.exitCode).toBe(exitCode);
    expect(error.details).toEqual({ field: "title" });
  });

  it("names an error answer that is not kodo's JSON by its status", async () => {
    stub = await startHttpStub((_request, response) => {
      response.writeHead(502, { "content-type": "text/html" });
      response.end("<html>Bad Gateway</html>");
    });
    const error = await failure(new KodoClient({ baseUrl: stub.url }).getRun("run_x"));
    expect(error.code).toBe("HTTP_502");
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain("Bad Gateway");
  });

  it("rejects a successful answer of the wrong shape as INVALID_RESPONSE", async () => {
    stub = await startHttpStub((_request, response) => sendJson(response, 200, { hello: "world" }));
    const error = await failure(new KodoClient({ baseUrl: stub.url }).getTask("tsk_x"));
    expect(error.code).toBe("INVALID_RESPONSE");
    expect(error.exitCode).toBe(5);
  });

  it("gives up with HTTP_TIMEOUT when the server does not answer, or stops halfway", async () => {
    stub = await startHttpStub((request, response) => {
      if (request.path.includes("half")) {
        response.writeHead(200, { "content-type": "application/json" });
        response.write('{"id":'); // and never more
      }
      // otherwise: never answer at all
    });
    const client = new KodoClient({ baseUrl: stub.url, timeoutMs: 200 });
    for (const id of ["silent", "half"]) {
      const error = await failure(client.getTask(id));
      expect(error.code).toBe("HTTP_TIMEOUT");
      expect(error.exitCode).toBe(5);
      expect(error.message).toContain("within 200 ms");
    }
  });

  it("reports a refused connection as SERVER_NOT_RUNNING with the way to start it", async () => {
    const port = await closedPort();
    const error = await failure(new KodoClient({ baseUrl: `http://127.0.0.1:${port}`, source: "KODO_URL" }).listTasks());
    expect(error.code).toBe("SERVER_NOT_RUNNING");
    expect(error.exitCode).toBe(5);
    expect(error.message).toContain("KODO_URL");
    expect(error.message).toContain("kodo serve");
  });

  it("turns Ctrl-C during a request into INTERRUPTED", async () => {
    stub = await startHttpStub(() => undefined);
    const controller = new AbortController();
    const pending = new KodoClient({ baseUrl: stub.url, signal: controller.signal }).getTask("tsk_x");
    setTimeout(() => controller.abort("SIGINT"), 50);
    const error = await failure(pending);
    expect(error.code).toBe("INTERRUPTED");
    expect(error.exitCode).toBe(130);
  });

  it("follows activity pages until an empty one", async () => {
    const item = (seq: number) => ({ seq, sessionId: "ses_1", itemId: `p${seq}`, messageId: null, kind: "text", data: { text: `t${seq}` }, updatedAt: "2025-01-01T00:00:00.000Z" });
    stub = await startHttpStub((request, response) => {
      const after = Number(new URL(request.path, "http://x").searchParams.get("after"));
      sendJson(response, 200, { items: after === 0 ? [item(1), item(2)] : after === 2 ? [item(3)] : [] });
    });
    const items = await new KodoClient({ baseUrl: stub.url }).allSessionActivity("ses_1");
    expect(items.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(stub.requests.map((request) => request.path)).toEqual([
      "/api/sessions/ses_1/activity?after=0",
      "/api/sessions/ses_1/activity?after=2",
      "/api/sessions/ses_1/activity?after=3",
    ]);
  });
});

describe("KodoClient.events", { timeout: 15_000 }, () => {
  let stub: HttpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it("yields each event once, in order, across a reconnect, and skips what it cannot parse", async () => {
    let connection = 0;
    stub = await startHttpStub((request, response) => {
      connection += 1;
      response.writeHead(200, { "content-type": "text/event-stream" });
      if (connection === 1) {
        const frames = readyFrame(5) + sseFrame(statusChanged(6, null, "Planning")) + sseFrame(statusChanged(7, "Planning", "PlanningReview"));
        response.write(frames, () => setTimeout(() => response.destroy(), 20));
      } else {
        // a careless server that repeats event 7 and sends a type this CLI does not know
        const unknown = `id: 9\nevent: future.thing\ndata: ${JSON.stringify({ id: 9, at: "2025-01-01T00:00:00.000Z", event: { type: "future.thing" } })}\n\n`;
        response.write(
          readyFrame(Number(request.headers["last-event-id"])) +
            sseFrame(statusChanged(7, "Planning", "PlanningReview")) +
            sseFrame(stored(8, { type: "plan.decided", taskId: "tsk_abc123", runId: "run_abc123", decision: "approved", reason: null })) +
            unknown +
            ": heartbeat\n\n" +
            sseFrame(statusChanged(10, "PlanningReview", "InProgress")),
        );
      }
    });
    const client = new KodoClient({ baseUrl: stub.url });
    const items: EventItem[] = [];
    for await (const item of client.events({ runId: "run_abc123" }, { initialBackoffMs: 10 })) {
      items.push(item);
      if (item.type === "event" && item.event.id === 10) break;
    }
    expect(items.flatMap((item) => (item.type === "event" ? [item.event.id] : []))).toEqual([6, 7, 8, 10]);
    expect(items.map((item) => item.type)).toEqual(["open", "event", "event", "reconnecting", "open", "event", "event"]);
    expect(stub.requests.map((request) => request.path)).toEqual(["/api/events?runId=run_abc123", "/api/events?runId=run_abc123"]);
    expect(stub.requests.map((request) => request.headers["last-event-id"])).toEqual([undefined, "7"]);
  });

  it("starts from a given event id and maps a refused stream to its API error", async () => {
    stub = await startHttpStub((request, response) => {
      if (request.path.includes("taskId=tsk_missing")) {
        sendJson(response, 404, { error: { code: "NOT_FOUND", message: "no such task" } });
        return;
      }
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(sseFrame(statusChanged(1, null, "Planning")));
    });
    const client = new KodoClient({ baseUrl: stub.url });
    for await (const item of client.events({ runId: "run_abc123" }, { lastEventId: 0 })) {
      if (item.type === "event") break;
    }
    expect(stub.requests[0]?.headers["last-event-id"]).toBe("0");
    const error = await failure(
      (async () => {
        for await (const _item of client.events({ taskId: "tsk_missing" })) void _item;
      })(),
    );
    expect(error.code).toBe("NOT_FOUND");
    expect(error.exitCode).toBe(3);
  });
});
