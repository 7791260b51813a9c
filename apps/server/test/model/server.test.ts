import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";

const SYSTEM = "You are opencode.\n<env>\n  Working directory: /tmp/work dir\n</env>";

const script = parseScript({
  version: 1,
  rules: [
    { name: "title", when: { titleRequest: true }, reply: { text: "A short title", usage: { prompt_tokens: 7, completion_tokens: 3 } } },
    { name: "write", when: { user: "please write", toolResults: 0 }, reply: { toolCalls: [{ name: "write", arguments: { filePath: "{{directory}}/src/x.js", content: "export {};\n" } }, { name: "read", arguments: { filePath: "a" } }] } },
    { name: "wrote", when: { user: "please write", toolResults: 1, lastToolResult: "Wrote" }, reply: { text: "Done: wrote {{directory}}/src/x.js. ".repeat(5) } },
    { name: "overloaded", when: { user: "overload" }, reply: { error: { status: 503, message: "the model is overloaded" }, delayMs: 20 } },
    { name: "slow", when: { user: "slow" }, reply: { text: "finally", delayMs: 300 } },
    { name: "stall", when: { user: "stall" }, reply: { hang: true } },
  ],
});

function chat(user: string, extra: { stream?: boolean; messages?: unknown[]; system?: string } = {}): RequestInit {
  const messages = [{ role: "system", content: extra.system ?? SYSTEM }, { role: "user", content: [{ type: "text", text: user }] }, ...(extra.messages ?? [])];
  return {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer unused" },
    body: JSON.stringify({ model: "scripted-1", messages, tools: [{ type: "function", function: { name: "write", parameters: {} } }], stream: extra.stream ?? false }),
    signal: AbortSignal.timeout(10_000),
  };
}

/** The `data:` payloads of an SSE body, `[DONE]` included as a string. */
function sseData(body: string): unknown[] {
  return body
    .split("\n\n")
    .filter((frame) => frame.startsWith("data: "))
    .map((frame) => frame.slice("data: ".length))
    .map((data) => (data === "[DONE]" ? data : (JSON.parse(data) as unknown)));
}

interface Chunk {
  object: string;
  choices: { delta: { role?: string; content?: string; tool_calls?: { index: number; id: string; function: { name: string; arguments: string } }[] }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe("scripted model server over HTTP", () => {
  let server: ScriptedModelServer;
  beforeAll(async () => {
    server = await startScriptedModelServer({ script });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(async () => {
    await fetch(`${server.url.replace(/\/v1$/, "")}/_kodo/reset`, { method: "POST", signal: AbortSignal.timeout(5_000) });
  });

  it("listens on a free port of 127.0.0.1 and lists its model", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
    const response = await fetch(`${server.url}/models`, { signal: AbortSignal.timeout(5_000) });
    expect(await response.json()).toEqual({ object: "list", data: [{ id: "scripted-1", object: "model", created: 0, owned_by: "kodo" }] });
  });

  it("answers text as a plain chat.completion when stream is false", async () => {
    const response = await fetch(`${server.url}/chat/completions`, chat("title please", { system: "You are a title generator." }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "scripted-1",
      choices: [{ index: 0, message: { role: "assistant", content: "A short title" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    });
  });

  it("streams tool calls with rendered {{directory}} and JSON-string arguments, then [DONE]", async () => {
    const response = await fetch(`${server.url}/chat/completions`, chat("please write", { stream: true }));
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const frames = sseData(await response.text());
    expect(frames.at(-1)).toBe("[DONE]");
    const chunks = frames.slice(0, -1) as Chunk[];
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk")).toBe(true);
    const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((call) => [call.index, call.function.name])).toEqual([[0, "write"], [1, "read"]]);
    expect(JSON.parse(calls[0]?.function.arguments ?? "")).toEqual({ filePath: "/tmp/work dir/src/x.js", content: "export {};\n" });
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.content !== undefined)).toBe(false);
    const last = chunks.at(-1);
    expect(last?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(last?.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0));
  });

  it("streams text in several deltas after a tool result, with deterministic usage", async () => {
    const followUp = [
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "write", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "call_1", content: "Wrote file successfully." },
    ];
    const run = async (): Promise<Chunk[]> => {
      const response = await fetch(`${server.url}/chat/completions`, chat("please write", { stream: true, messages: followUp }));
      return sseData(await response.text()).slice(0, -1) as Chunk[];
    };
    const chunks = await run();
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("Done: wrote /tmp/work dir/src/x.js. ".repeat(5));
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content !== undefined).length).toBeGreaterThan(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect((await run()).at(-1)?.usage).toEqual(chunks.at(-1)?.usage);
  });

  it("answers a scripted HTTP error with an OpenAI-style body", async () => {
    const response = await fetch(`${server.url}/chat/completions`, chat("overload", { stream: true }));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { message: "the model is overloaded", type: "server_error" } });
  });

  it("answers 400 naming that no rule matched, and counts it", async () => {
    const response = await fetch(`${server.url}/chat/completions`, chat("something unscripted"));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("no_rule_matched");
    expect(body.error.message).toContain("no rule matched request #1");
    expect(body.error.message).toContain("something unscripted");
    expect(server.stats()).toMatchObject({ requests: 1, unmatched: 1, log: [{ n: 1, rule: null, tools: ["write"] }] });
  });

  it("rejects a body that is not a chat request", async () => {
    const bad = await fetch(`${server.url}/chat/completions`, { method: "POST", body: "{not json", signal: AbortSignal.timeout(5_000) });
    expect(bad.status).toBe(400);
    const noMessages = await fetch(`${server.url}/chat/completions`, { method: "POST", body: JSON.stringify({ model: "x" }), signal: AbortSignal.timeout(5_000) });
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as { error: { message: string } }).error.message).toContain("messages");
    expect(server.stats()).toMatchObject({ requests: 2, invalid: 2, unmatched: 0 });
    const missing = await fetch(`${server.url}/nowhere`, { signal: AbortSignal.timeout(5_000) });
    expect(missing.status).toBe(404);
  });

  it("waits delayMs before the first byte", async () => {
    const started = performance.now();
    const response = await fetch(`${server.url}/chat/completions`, chat("slow"));
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("finally");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("keeps stats per rule with a log of what was asked, over HTTP too, and resets them", async () => {
    await (await fetch(`${server.url}/chat/completions`, chat("please write"))).text();
    await (await fetch(`${server.url}/chat/completions`, chat("title", { system: "You are a title generator." }))).text();
    const base = server.url.replace(/\/v1$/, "");
    const overHttp = await (await fetch(`${base}/_kodo/stats`, { signal: AbortSignal.timeout(5_000) })).json();
    expect(overHttp).toEqual(server.stats());
    expect(overHttp).toEqual({
      requests: 2,
      byRule: { title: 1, write: 1, wrote: 0, overloaded: 0, slow: 0, stall: 0 },
      unmatched: 0,
      invalid: 0,
      log: [
        { n: 1, rule: "write", lastUser: "please write", lastToolResult: null, tools: ["write"] },
        { n: 2, rule: "title", lastUser: "title", lastToolResult: null, tools: ["write"] },
      ],
    });
    await fetch(`${base}/_kodo/reset`, { method: "POST", signal: AbortSignal.timeout(5_000) });
    expect(server.stats()).toMatchObject({ requests: 0, byRule: { write: 0 }, log: [] });
  });

  it("hangs until the client goes away", async () => {
    const client = new AbortController();
    const pending = fetch(`${server.url}/chat/completions`, { ...chat("stall", { stream: true }), signal: client.signal });
    await expect.poll(() => server.stats().byRule["stall"], { timeout: 5_000 }).toBe(1);
    client.abort();
    await expect(pending).rejects.toThrow();
  });
});

describe("closing the scripted model server", () => {
  it("ends hanging and delayed connections and resolves quickly, leaving nothing that keeps the process alive", async () => {
    const count = (kind: string): number => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;
    const alive = (): Record<string, number> => ({ timers: count("Timeout"), servers: count("TCPServerWrap"), sockets: count("TCPSocketWrap") });
    const before = alive();
    const server = await startScriptedModelServer({ script, port: 0 });
    const hanging = fetch(`${server.url}/chat/completions`, chat("stall", { stream: true })).then(
      async (response) => `answered ${response.status}: ${await response.text()}`,
      (error: unknown) => `failed: ${String(error)}`,
    );
    const delayed = fetch(`${server.url}/chat/completions`, chat("slow")).then(
      () => "answered",
      () => "failed",
    );
    await expect.poll(() => server.stats().requests, { timeout: 5_000 }).toBe(2);
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(5_000); // a hanging request would otherwise hold it for an hour
    expect(await hanging).toMatch(/^failed/);
    expect(await delayed).toBe("failed");
    await server.close(); // idempotent
    const grown = (): string[] => Object.entries(alive()).filter(([kind, n]) => n > (before[kind] ?? 0)).map(([kind]) => kind);
    await expect.poll(grown, { timeout: 2_000 }).toEqual([]);
    await expect(fetch(`${server.url}/models`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });

  it("gives up a hang after maxHangMs", async () => {
    const server = await startScriptedModelServer({ script, maxHangMs: 100 });
    try {
      await expect(fetch(`${server.url}/chat/completions`, chat("stall"))).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it("fails to start on a port in use", async () => {
    const first = await startScriptedModelServer({ script });
    try {
      await expect(startScriptedModelServer({ script, port: first.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
