import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { readEventStream, SseHttpError, SseParser, type SseItem } from "../src/sse-reader.js";
import { closedPort, startHttpStub, type HttpStub, type RecordedRequest } from "./support/http-stub.js";

const FAST = { initialBackoffMs: 10, maxBackoffMs: 50, connectTimeoutMs: 2_000 };

describe("SseParser", () => {
  it("parses frames split anywhere, with LF, CRLF and CR line ends", () => {
    const text = "id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\rdata: y\r\rid: 3\ndata: z\n\n";
    for (let size = 1; size <= text.length; size += 1) {
      const parser = new SseParser();
      const frames = [];
      for (let at = 0; at < text.length; at += size) frames.push(...parser.push(text.slice(at, at + size)));
      expect(frames.map((frame) => [frame.id, frame.event, frame.data])).toEqual([
        ["1", "a", "x"],
        ["2", "message", "y"],
        ["3", "message", "z"],
      ]);
    }
  });

  it("joins data lines, ignores comments and unknown fields, keeps the last id across frames", () => {
    const parser = new SseParser();
    const frames = parser.push(": heartbeat\n\nid: 7\ndata: first\ndata:second\nfoo: bar\n\nevent: ready\ndata: {}\n\nid: 9\n\nretry: 1500\ndata\n\n");
    expect(frames).toEqual([
      { id: "7", lastEventId: "7", event: "message", data: "first\nsecond" },
      { id: undefined, lastEventId: "7", event: "ready", data: "{}" },
      { id: undefined, lastEventId: "9", event: "message", data: "" },
    ]);
    expect(parser.lastEventId).toBe("9");
    expect(parser.retryMs).toBe(1500);
  });

  it("holds back an unfinished frame, and its id, until its blank line arrives", () => {
    const parser = new SseParser({ lastEventId: "0" });
    expect(parser.push("id: 1\ndata: par")).toEqual([]);
    expect(parser.push("tial\n")).toEqual([]);
    expect(parser.lastEventId).toBe("0"); // a reconnect now must ask for event 1 again
    expect(parser.push("\n")).toEqual([{ id: "1", lastEventId: "1", event: "message", data: "partial" }]);
  });

  it("lets a resumeFrom hook set the position from a frame without id", () => {
    const parser = new SseParser({ resumeFrom: (frame) => (frame.event === "ready" ? "41" : undefined) });
    const [ready] = parser.push("event: ready\ndata: {}\n\n");
    expect(ready?.lastEventId).toBe("41");
    expect(parser.lastEventId).toBe("41");
  });
});

/** A tiny event log served over SSE that honours Last-Event-ID, with a script per connection. */
function eventLog(size: number): string[] {
  return Array.from({ length: size }, (_, index) => `id: ${index + 1}\nevent: tick\ndata: {"n":${index + 1}}\n\n`);
}

function openStream(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  response.flushHeaders();
}

async function collect(stream: AsyncGenerator<SseItem>, stopAfter: (items: SseItem[]) => boolean): Promise<SseItem[]> {
  const items: SseItem[] = [];
  for await (const item of stream) {
    items.push(item);
    if (stopAfter(items)) break;
  }
  return items;
}

const dataOf = (items: SseItem[]): string[] => items.flatMap((item) => (item.type === "frame" ? [item.frame.data] : []));
const lastEventIds = (requests: RecordedRequest[]): (string | undefined)[] => requests.map((request) => request.headers["last-event-id"] as string | undefined);

describe("readEventStream against a real HTTP server", { timeout: 15_000 }, () => {
  let stub: HttpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it("reconnects with Last-Event-ID after a drop and an end, losing and repeating nothing", async () => {
    const log = eventLog(6);
    let connection = 0;
    stub = await startHttpStub((request, response) => {
      connection += 1;
      const after = Number(request.headers["last-event-id"] ?? 0);
      openStream(response);
      if (connection === 1) {
        // events 1-3, half of event 4, then the connection dies
        response.write(log.slice(after, 3).join("") + "id: 4\nevent: tick\nda", () => setTimeout(() => response.destroy(), 20));
      } else if (connection === 2) {
        response.write(": heartbeat\n\n" + log.slice(after, 5).join(""));
        response.end(); // a clean end is a drop too: SSE streams do not end
      } else {
        response.write(log.slice(after).join("")); // and then stays open
      }
    });
    const items = await collect(readEventStream({ url: `${stub.url}/events`, ...FAST }), (seen) => dataOf(seen).length === 6);
    expect(dataOf(items)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}`));
    expect(lastEventIds(stub.requests)).toEqual([undefined, "3", "5"]);
    expect(items.filter((item) => item.type === "open").map((item) => (item.type === "open" ? item.connection : 0))).toEqual([1, 2, 3]);
    expect(items.filter((item) => item.type === "reconnecting")).toHaveLength(2);
  });

  it("resumes from the server's ready position when the first connection drops before any event", async () => {
    let connection = 0;
    stub = await startHttpStub((_request, response) => {
      connection += 1;
      openStream(response);
      if (connection === 1) response.write('event: ready\ndata: {"lastEventId":41}\n\n', () => setTimeout(() => response.destroy(), 20));
      else response.write("id: 42\ndata: after\n\n");
    });
    const items = await collect(
      readEventStream({ url: stub.url, ...FAST, resumeFrom: (frame) => (frame.event === "ready" ? String((JSON.parse(frame.data) as { lastEventId: number }).lastEventId) : undefined) }),
      (seen) => dataOf(seen).includes("after"),
    );
    expect(lastEventIds(stub.requests)).toEqual([undefined, "41"]);
    expect(dataOf(items)).toEqual(['{"lastEventId":41}', "after"]);
  });

  it("sends the caller's starting Last-Event-ID on the first connection", async () => {
    stub = await startHttpStub((_request, response) => {
      openStream(response);
      response.write("id: 11\ndata: x\n\n");
    });
    await collect(readEventStream({ url: stub.url, lastEventId: "10", ...FAST }), (seen) => dataOf(seen).length === 1);
    expect(lastEventIds(stub.requests)).toEqual(["10"]);
  });

  it("reconnects when the stream goes silent for longer than the idle timeout", async () => {
    let connection = 0;
    stub = await startHttpStub((_request, response) => {
      connection += 1;
      openStream(response);
      response.write(`id: ${connection}\ndata: c${connection}\n\n`); // then silence
    });
    const items = await collect(readEventStream({ url: stub.url, ...FAST, idleTimeoutMs: 200 }), (seen) => dataOf(seen).length === 2);
    expect(dataOf(items)).toEqual(["c1", "c2"]);
    expect(lastEventIds(stub.requests)).toEqual([undefined, "1"]);
    const reconnect = items.find((item) => item.type === "reconnecting");
    expect(reconnect?.type === "reconnecting" && String(reconnect.error)).toContain("silent");
  });

  it("retries 5xx answers, gives up on other 4xx at once", async () => {
    let calls = 0;
    stub = await startHttpStub((request, response) => {
      calls += 1;
      if (request.path === "/missing") {
        response.writeHead(404, { "content-type": "application/json" });
        response.end('{"error":{"code":"NOT_FOUND","message":"no"}}');
      } else if (calls < 3) {
        response.writeHead(503);
        response.end("busy");
      } else {
        openStream(response);
        response.write("id: 1\ndata: ok\n\n");
      }
    });
    const items = await collect(readEventStream({ url: stub.url, ...FAST }), (seen) => dataOf(seen).length === 1);
    expect(dataOf(items)).toEqual(["ok"]);
    expect(calls).toBe(3);

    const error = await collect(readEventStream({ url: `${stub.url}/missing`, ...FAST }), () => false).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SseHttpError);
    expect((error as SseHttpError).status).toBe(404);
    expect((error as SseHttpError).body).toContain("NOT_FOUND");
    expect(calls).toBe(4);
  });

  it("gives up after maxAttempts consecutive failed connections", async () => {
    const port = await closedPort();
    const items: SseItem[] = [];
    const error = await (async () => {
      for await (const item of readEventStream({ url: `http://127.0.0.1:${port}/`, ...FAST, maxAttempts: 3 })) items.push(item);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(items.map((item) => item.type)).toEqual(["reconnecting", "reconnecting"]);
    expect(items.map((item) => (item.type === "reconnecting" ? item.delayMs : 0))).toEqual([10, 20]);
  });

  it("ends cleanly, without throwing, when its signal aborts", async () => {
    stub = await startHttpStub((_request, response) => {
      openStream(response);
      response.write("id: 1\ndata: one\n\n");
    });
    const controller = new AbortController();
    const items: SseItem[] = [];
    for await (const item of readEventStream({ url: stub.url, signal: controller.signal, ...FAST })) {
      items.push(item);
      if (item.type === "frame") controller.abort();
    }
    expect(dataOf(items)).toEqual(["one"]);
    expect(stub.requests).toHaveLength(1);
  });
});
