/**
 * Event parsing and the reconnecting subscription, against a fake SSE server (no OpenCode): the
 * real-binary event checks are in runtime.test.ts and supervisor.test.ts.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { normalizeEvent, type AgentEvent } from "../../src/agent/event-types.js";
import { createEventStream, type AgentEventStream } from "../../src/agent/events.js";
import { createTimedFetch } from "../../src/agent/http.js";
import { SseParser } from "../../src/agent/sse.js";
import { progressJudge } from "../../src/agent/turn-watch.js";
import { until } from "./helpers.js";

describe("SseParser", () => {
  it("joins data lines, handles CRLF and chunks split anywhere, ignores comments", () => {
    const parser = new SseParser();
    expect(parser.push(": hello\r\ndata: {\"a\"")).toEqual([]);
    expect(parser.push(":1}\r\n\r\nda")).toEqual(['{"a":1}']);
    expect(parser.push("ta: x\ndata: y\n\n")).toEqual(["x\ny"]);
  });
});

describe("normalizeEvent", () => {
  const frame = (type: string, properties: unknown): unknown => ({ directory: "/repo", payload: { id: "evt_1", type, properties } });

  it("maps the events kodo uses", () => {
    expect(normalizeEvent(frame("session.status", { sessionID: "ses_1", status: { type: "busy" } }))).toEqual({
      type: "session.status",
      directory: "/repo",
      sessionId: "ses_1",
      status: "busy",
      message: undefined,
    });
    expect(
      normalizeEvent(
        frame("message.updated", {
          sessionID: "ses_1",
          info: { id: "msg_2", role: "assistant", parentID: "msg_1", time: { created: 1, completed: 2 }, finish: "stop", error: { name: "APIError", data: { message: "boom" } } },
        }),
      ),
    ).toMatchObject({ type: "message.updated", messageId: "msg_2", role: "assistant", parentId: "msg_1", completed: true, finish: "stop", error: { name: "APIError", message: "boom" } });
    expect(
      normalizeEvent(frame("message.part.updated", { sessionID: "ses_1", part: { id: "prt_1", messageID: "msg_2", type: "tool", tool: "write", state: { status: "completed" } }, time: 1 })),
    ).toMatchObject({ type: "part.updated", partId: "prt_1", partType: "tool", tool: "write", state: "completed" });
    expect(normalizeEvent(frame("permission.asked", { id: "per_1", sessionID: "ses_1", permission: "bash", patterns: ["ls"], metadata: {}, always: [] }))).toMatchObject({
      type: "permission.asked",
      id: "per_1",
      permission: "bash",
      patterns: ["ls"],
    });
    expect(normalizeEvent(frame("session.idle", { sessionID: "ses_1" }))).toEqual({ type: "session.idle", directory: "/repo", sessionId: "ses_1" });
  });

  it("reduces deltas to progress, drops heartbeats and sync duplicates, passes the rest as other", () => {
    expect(normalizeEvent(frame("message.part.delta", { sessionID: "ses_1", messageID: "m", partID: "p", field: "text", delta: "x" }))).toEqual({
      type: "progress",
      sessionId: "ses_1",
    });
    expect(normalizeEvent({ payload: { id: "e", type: "server.heartbeat", properties: {} } })).toBeUndefined();
    expect(normalizeEvent({ directory: "/repo", payload: { type: "sync", syncEvent: {} } })).toBeUndefined();
    expect(normalizeEvent(frame("file.edited", { file: "/repo/a" }))).toEqual({ type: "other", rawType: "file.edited", directory: "/repo", sessionId: undefined });
    // a known type in an unexpected shape degrades to other, never throws
    expect(normalizeEvent(frame("session.status", { sessionID: "ses_1", status: "weird" }))).toMatchObject({ type: "other", rawType: "session.status", sessionId: "ses_1" });
    expect(normalizeEvent("garbage")).toBeUndefined();
  });
});

describe("createEventStream", () => {
  let stream: AgentEventStream | undefined;
  let server: http.Server | undefined;
  afterEach(async () => {
    await stream?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });

  /** An SSE endpoint; `behave` decides what each connection gets. */
  async function fakeServer(behave: (response: http.ServerResponse, connection: number) => void): Promise<{ url: string; connections: () => number; auth: string[] }> {
    let connections = 0;
    const auth: string[] = [];
    server = http.createServer((request, response) => {
      auth.push(request.headers.authorization ?? "");
      connections += 1;
      response.writeHead(200, { "content-type": "text/event-stream" });
      behave(response, connections);
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, auth };
  }

  const idle = (sessionID: string): string => `data: ${JSON.stringify({ payload: { type: "session.idle", properties: { sessionID } } })}\n\n`;

  it("delivers events, reconnects after the stream drops and says so", async () => {
    const fake = await fakeServer((response, n) => {
      response.write(idle(`ses_${n}`));
      if (n === 1) setTimeout(() => response.destroy(), 50);
    });
    const http = createTimedFetch("pw");
    const events: AgentEvent[] = [];
    stream = createEventStream({ endpoint: () => ({ url: fake.url, fetch: http.fetch }), initialBackoffMs: 20 });
    stream.subscribe((event) => events.push(event));
    await until(() => (events.some((e) => e.type === "session.idle" && e.sessionId === "ses_2") ? true : undefined), 5_000, "second connection");
    expect(events.map((e) => (e.type === "session.idle" ? e.sessionId : e.type))).toEqual(["ses_1", "reconnected", "ses_2"]);
    expect(fake.auth.every((value) => value === `Basic ${Buffer.from("opencode:pw").toString("base64")}`)).toBe(true);
    await stream.stop();
    await http.close();
  });

  it("treats a silent connection as dead after idleTimeoutMs, with or without headers", async () => {
    const fake = await fakeServer((response, n) => {
      if (n === 1) response.flushHeaders(); // headers, then silence
      if (n >= 3) response.write(idle("ses_after"));
      // the second connection never sends a byte, not even headers
    });
    const http = createTimedFetch("pw");
    const events: AgentEvent[] = [];
    stream = createEventStream({ endpoint: () => ({ url: fake.url, fetch: http.fetch }), idleTimeoutMs: 300, initialBackoffMs: 20 });
    stream.subscribe((event) => events.push(event));
    const t0 = performance.now();
    await until(() => (events.some((e) => e.type === "session.idle") ? true : undefined), 5_000, "reconnect after idle");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(580);
    expect(fake.connections()).toBe(3);
    await stream.stop();
    await http.close();
  });

  it("waits while the server is down and stops promptly", async () => {
    const http = createTimedFetch("pw");
    let calls = 0;
    stream = createEventStream({
      endpoint: () => {
        calls += 1;
        return undefined;
      },
      initialBackoffMs: 10,
      maxBackoffMs: 20,
    });
    expect(await stream.waitConnected(100)).toBe(false);
    expect(calls).toBeGreaterThan(1);
    const t0 = performance.now();
    await stream.stop();
    // stopping does not wait for a backoff or a connection attempt (bounded, not a speed target)
    expect(performance.now() - t0).toBeLessThan(2_000);
    await http.close();
  });
});

describe("progressJudge", () => {
  it("does not count OpenCode's retry/busy ping-pong as progress", () => {
    const judge = progressJudge();
    const status = (status: "busy" | "retry" | "idle"): AgentEvent => ({ type: "session.status", directory: undefined, sessionId: "s", status, message: undefined });
    expect(judge(status("busy"))).toBe(true);
    expect(judge(status("retry"))).toBe(false);
    expect(judge(status("busy"))).toBe(false);
    expect(judge(status("retry"))).toBe(false);
    expect(judge({ type: "progress", sessionId: "s" })).toBe(true);
    expect(judge(status("busy"))).toBe(true);
  });
});
