/**
 * The AgentRuntime over a real `opencode serve` and the scripted model: build writes a file, plan
 * answers structured output and is refused writes and bash, a hanging model is detected as a
 * stall, messages() reconciles, and the event stream reports the session's life.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agent/event-types.js";
import { buildPermissions, planPermissions } from "../../src/agent/permissions.js";
import { createOpenCodeRuntime, type OpenCodeRuntime } from "../../src/agent/runtime.js";
import { startOpenCodeServer, type OpenCodeServer } from "../../src/agent/server-supervisor.js";
import { isKodoError } from "../../src/lib/errors.js";
import { gitRepo, leftoverProcesses, removeTempDirs, tempStateDir } from "./helpers.js";
import { startRecordingModel, type RecordingModel } from "./model-fixture.js";

const API_KEY = "sk-kodo-test-0123456789";
let model: RecordingModel;
let server: OpenCodeServer;
let runtime: OpenCodeRuntime;
let stateDir: string;
const events: AgentEvent[] = [];

beforeAll(async () => {
  model = await startRecordingModel();
  stateDir = tempStateDir("runtime");
  server = await startOpenCodeServer({
    stateDir,
    model: { baseUrl: model.url, apiKey: API_KEY, model: "scripted-1" },
    logFile: path.join(stateDir, "opencode.log"),
    onEvent: (event) => events.push(event),
  });
  runtime = createOpenCodeRuntime(server);
});

afterAll(async () => {
  const report = await server?.stop();
  await model?.close();
  const leftovers = leftoverProcesses();
  removeTempDirs();
  expect(report?.survivors ?? []).toEqual([]);
  expect(leftovers).toEqual([]);
});

const limits = { stallMs: 20_000, timeoutMs: 60_000 };

describe("OpenCode runtime", () => {
  it("build agent writes a file in the repo; events and messages() follow the turn", async () => {
    const repo = gitRepo("build");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "build test", permission: buildPermissions() });
    expect(sessionId).toMatch(/^ses_/);
    const t0 = performance.now();
    const result = await runtime.prompt({ sessionId, directory: repo, agent: "build", text: "WRITE_FILE please", ...limits });
    console.log(`[timing] build turn (write + text) ${Math.round(performance.now() - t0)} ms`);

    expect(fs.readFileSync(path.join(repo, "hello.txt"), "utf8")).toBe("hello from kodo\n");
    expect(result.text).toBe("wrote hello.txt");
    expect(result.finish).toBe("stop");
    expect(result.providerId).toBe("kodo");
    expect(result.modelId).toBe("scripted-1");
    expect(result.userMessageId).toMatch(/^msg_/);
    expect(result.tokens.input).toBeGreaterThan(0);
    expect(result.tokens.output).toBeGreaterThan(0);

    const messages = await runtime.messages({ sessionId, directory: repo });
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "assistant"]);
    expect(messages[0]).toMatchObject({ id: result.userMessageId, text: "WRITE_FILE please", completed: true });
    const assistants = messages.filter((m) => m.role === "assistant");
    expect(assistants.every((m) => m.completed && m.parentId === result.userMessageId)).toBe(true);
    expect(assistants.map((m) => m.finish)).toEqual(["tool-calls", "stop"]);
    expect(assistants.at(-1)?.id).toBe(result.messageId);
    // the result sums both steps of the turn
    expect(result.tokens.output).toBe(assistants.reduce((sum, m) => sum + m.tokens.output, 0));

    const mine = events.filter((event) => "sessionId" in event && event.sessionId === sessionId);
    const types = new Set(mine.map((event) => event.type));
    expect(types).toContain("session.status");
    expect(types).toContain("message.updated");
    expect(types).toContain("part.updated");
    expect(types).toContain("session.idle");
    expect(mine.some((e) => e.type === "session.status" && e.status === "busy")).toBe(true);
    expect(mine.some((e) => e.type === "part.updated" && e.tool === "write" && e.state === "completed")).toBe(true);
    expect(mine.some((e) => e.type === "part.updated" && e.partType === "text" && e.text === "wrote hello.txt")).toBe(true);

    // the API key reached the model from the key file, and is not in the server's environment
    expect(model.authorizations).toContain(`Bearer ${API_KEY}`);
    const environ = fs.readFileSync(`/proc/${server.pid}/environ`, "utf8");
    expect(environ).not.toContain(API_KEY);
  });

  it("plan agent with a json_schema format returns structured output", async () => {
    const repo = gitRepo("plan");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "plan test", permission: planPermissions() });
    const schema = {
      type: "object",
      properties: { summary: { type: "string" }, steps: { type: "array", items: { type: "string" } } },
      required: ["summary", "steps"],
      additionalProperties: false,
    };
    const result = await runtime.prompt({
      sessionId,
      directory: repo,
      agent: "plan",
      text: "PLAN_JSON: plan a greeting",
      format: { type: "json_schema", schema },
      ...limits,
    });
    expect(result.structured).toEqual({ summary: "add a greeting", steps: ["write hello.txt", "test it"] });
    expect(result.finish).toBe("tool-calls");
  });

  it("plan agent cannot write or run bash: the tools are not offered and a call is refused", async () => {
    const repo = gitRepo("planwrite");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "plan write test", permission: planPermissions() });
    const before = model.scripted.stats().log.length;
    const write = await runtime.prompt({ sessionId, directory: repo, agent: "plan", text: "PLAN_WRITE now", ...limits });
    expect(write.text).toBe("the write was refused");
    expect(fs.existsSync(path.join(repo, "plan-was-here.txt"))).toBe(false);

    const bash = await runtime.prompt({ sessionId, directory: repo, agent: "plan", text: "PLAN_BASH now", ...limits });
    expect(bash.text).toBe("bash was refused");
    expect(fs.existsSync(path.join(repo, "plan-bash-was-here.txt"))).toBe(false);

    const planRequests = model.scripted.stats().log.slice(before).filter((entry) => entry.rule?.startsWith("plan-"));
    expect(planRequests.length).toBe(4);
    for (const entry of planRequests) {
      expect(entry.tools).not.toContain("write");
      expect(entry.tools).not.toContain("edit");
      expect(entry.tools).not.toContain("bash");
      expect(entry.tools).not.toContain("task");
    }
    const refusals = planRequests.filter((entry) => entry.rule === "plan-write-after" || entry.rule === "plan-bash-after");
    console.log("[refusal tool results]", refusals.map((entry) => entry.lastToolResult));
    expect(refusals.every((entry) => entry.lastToolResult !== null)).toBe(true);
    // kodo's rules never say ask: nothing waited for an answer
    expect(events.filter((e) => e.type === "permission.asked" || e.type === "question.asked")).toEqual([]);
  });

  it("a model that hangs is detected as AGENT_STALLED within about stallMs, and the session is aborted", async () => {
    const repo = gitRepo("stall");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "stall test", permission: buildPermissions() });
    const stallMs = 3_000;
    const t0 = performance.now();
    const error: unknown = await runtime
      .prompt({ sessionId, directory: repo, agent: "build", text: "HANG forever", stallMs, timeoutMs: 60_000 })
      .then(() => undefined, (e: unknown) => e);
    const elapsed = performance.now() - t0;
    console.log(`[timing] stall detected after ${Math.round(elapsed)} ms (stallMs ${stallMs})`, isKodoError(error) ? error.details : error);
    expect(isKodoError(error) && error.code).toBe("AGENT_STALLED");
    expect(isKodoError(error) && error.retryable).toBe(false);
    expect(isKodoError(error) && error.details?.["aborted"]).toBe(true);
    // stallMs counts from the session's last event (OpenCode emits a few while it sets the turn up)
    const idleMs = isKodoError(error) ? Number(error.details?.["idleMs"]) : NaN;
    expect(idleMs).toBeGreaterThanOrEqual(stallMs);
    // AGENT_STALLED (not DEADLINE_EXCEEDED) already says the detector, not the 60 s deadline, ended it
    expect(elapsed).toBeGreaterThanOrEqual(stallMs);

    const status = await server.client().session.status({ directory: repo });
    expect(status.data?.[sessionId]?.type ?? "idle").toBe("idle");
    const messages = await runtime.messages({ sessionId, directory: repo });
    // the model never answered: the step's assistant message, if OpenCode had created it yet, ends aborted
    expect(messages[0]?.role).toBe("user");
    for (const message of messages.slice(1)) {
      expect(message).toMatchObject({ role: "assistant", completed: true, error: { name: "MessageAbortedError" } });
    }
  });

  it("a provider failing with 5xx (OpenCode retries it) is a stall, not progress", async () => {
    const repo = gitRepo("retry");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "retry test", permission: buildPermissions() });
    const t0 = performance.now();
    const error: unknown = await runtime
      .prompt({ sessionId, directory: repo, agent: "build", text: "FAIL_5XX", stallMs: 8_000, timeoutMs: 120_000 })
      .then(() => undefined, (e: unknown) => e);
    console.log(`[timing] 5xx loop ended after ${Math.round(performance.now() - t0)} ms`, isKodoError(error) ? error.code : error);
    expect(isKodoError(error) && error.code).toBe("AGENT_STALLED");
    // OpenCode would have kept retrying for about a minute; the stall detector ended it well before
    // (stallMs is long enough for OpenCode's first retry to show up even on a loaded machine)
    expect(performance.now() - t0).toBeLessThan(45_000);
    const retries = events.filter((e) => e.type === "session.status" && e.sessionId === sessionId && e.status === "retry");
    expect(retries.length).toBeGreaterThan(0);
  });

  it("what the agent's shell inherits: the cleanup marker, but neither the API key nor the server password", async () => {
    const repo = gitRepo("env");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "env test", permission: buildPermissions() });
    await runtime.prompt({ sessionId, directory: repo, agent: "build", text: "DUMP_ENV", ...limits });
    const env = fs.readFileSync(path.join(repo, "env.txt"), "utf8");
    expect(env).toContain(`KODO_OPENCODE_STATE=${stateDir}`);
    expect(env).not.toContain(API_KEY);
    expect(env).not.toContain(server.password);
    expect(env).not.toContain("OPENCODE_CONFIG_CONTENT=");
    const names = env.split("\n").map((line) => line.split("=")[0]).filter((name) => name !== undefined && name !== "");
    console.log("[agent shell env names]", names.sort().join(" "));
    // residual gap, for the sandbox work: same uid, so the server's own environ is readable
    const serverEnviron = fs.readFileSync(path.join(repo, "server-environ.txt"), "utf8");
    expect(serverEnviron).toContain(server.password);
  });

  it("the overall deadline aborts with DEADLINE_EXCEEDED", async () => {
    const repo = gitRepo("deadline");
    const { sessionId } = await runtime.createSession({ directory: repo, title: "deadline test", permission: buildPermissions() });
    const error: unknown = await runtime
      .prompt({ sessionId, directory: repo, agent: "build", text: "HANG again", stallMs: 30_000, timeoutMs: 2_000 })
      .then(() => undefined, (e: unknown) => e);
    expect(isKodoError(error) && error.code).toBe("DEADLINE_EXCEEDED");
  });
});
