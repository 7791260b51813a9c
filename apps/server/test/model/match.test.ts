import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../src/model/scripted/chat-request.js";
import { matchRule, requestFacts } from "../../src/model/scripted/match.js";
import { parseScript } from "../../src/model/scripted/script.js";

/** The shape OpenCode 1.18.33 sends (trimmed): one system message, user content as text parts. */
const SYSTEM = [
  "You are opencode, an interactive CLI tool that helps users with software engineering tasks.",
  "Here is some useful information about the environment you are running in:",
  "<env>",
  "  Working directory: /tmp/repo one",
  "  Workspace root folder: /tmp/repo one",
  "  Is directory a git repo: yes",
  "</env>",
].join("\n");

function tools(...names: string[]): ChatRequest["tools"] {
  return names.map((name) => ({ type: "function", function: { name } }));
}

function request(messages: ChatRequest["messages"], toolNames: string[] = ["bash", "read", "write"]): ChatRequest {
  return { model: "scripted-1", messages, tools: tools(...toolNames), stream: true };
}

const userParts = (text: string): ChatRequest["messages"][number] => ({
  role: "user",
  content: [{ type: "text", text }, { type: "text", text: "<system-reminder>plan mode</system-reminder>" }],
});
const toolCall = (id: string): ChatRequest["messages"][number] => ({ role: "assistant", content: "", tool_calls: [{ id, type: "function", function: { name: "write", arguments: "{}" } }] });
const toolResult = (id: string, text: string): ChatRequest["messages"][number] => ({ role: "tool", tool_call_id: id, content: text });

describe("requestFacts", () => {
  it("extracts what the matcher needs from an OpenCode-shaped request", () => {
    const facts = requestFacts(
      request([
        { role: "system", content: SYSTEM },
        { role: "user", content: "first" },
        toolCall("a"),
        toolResult("a", "Wrote file successfully."),
        { role: "assistant", content: "done" },
        userParts("KODO-PHASE: build\nDo it"),
        toolCall("b"),
        toolResult("b", "Edit applied successfully."),
      ]),
    );
    expect(facts).toEqual({
      system: SYSTEM,
      userTexts: ["first", "KODO-PHASE: build\nDo it\n<system-reminder>plan mode</system-reminder>"],
      lastUser: "KODO-PHASE: build\nDo it\n<system-reminder>plan mode</system-reminder>",
      toolResults: 1,
      lastToolResult: "Edit applied successfully.",
      tools: ["bash", "read", "write"],
      directory: "/tmp/repo one",
      titleRequest: false,
    });
  });

  it("recognizes the title request and tolerates missing parts", () => {
    const facts = requestFacts({
      messages: [
        { role: "system", content: "You are a title generator. You output ONLY a thread title." },
        { role: "user", content: "Generate a title for this conversation:\n" },
        { role: "user", content: null },
      ],
    });
    expect(facts).toMatchObject({ titleRequest: true, tools: [], directory: undefined, lastUser: "", toolResults: 0, lastToolResult: undefined });
  });
});

describe("matchRule", () => {
  const script = parseScript({
    version: 1,
    rules: [
      { name: "title", when: { titleRequest: true }, reply: { text: "A title" } },
      { name: "plan", when: { user: "KODO-PHASE: plan", tool: "StructuredOutput" }, reply: { toolCalls: [{ name: "StructuredOutput", arguments: {} }] } },
      { name: "write", when: { user: "KODO-PHASE: build", toolResults: 0 }, reply: { toolCalls: [{ name: "write", arguments: {} }] } },
      { name: "after-failed-write", when: { anyUser: "KODO-PHASE: build", lastToolResult: "Error" }, reply: { text: "it failed" } },
      { name: "summary", when: { user: "KODO-PHASE: build", toolResults: 1, titleRequest: false }, reply: { text: "done" } },
      { name: "system-only", when: { system: "special system" }, reply: { text: "special" } },
    ],
  });
  const match = (chat: ChatRequest): string | undefined => matchRule(script, requestFacts(chat))?.rule;
  const system = { role: "system", content: SYSTEM };

  it("answers the title request before rules on the user text", () => {
    expect(match({ messages: [{ role: "system", content: "You are a title generator." }, userParts("KODO-PHASE: plan")] })).toBe("title");
  });

  it("requires every condition: the plan rule needs the StructuredOutput tool", () => {
    expect(match(request([system, userParts("KODO-PHASE: plan\nplan it")], ["read", "StructuredOutput"]))).toBe("plan");
    expect(match(request([system, userParts("KODO-PHASE: plan\nplan it")], ["read"]))).toBeUndefined();
  });

  it("counts tool results after the last user message only", () => {
    const turn = [system, { role: "user", content: "KODO-PHASE: build" }];
    expect(match(request(turn))).toBe("write");
    expect(match(request([...turn, toolCall("1"), toolResult("1", "Wrote file successfully.")]))).toBe("summary");
    expect(match(request([...turn, toolCall("1"), toolResult("1", "Error: no such file")]))).toBe("after-failed-write");
    expect(match(request([...turn, toolCall("1"), toolResult("1", "ok"), toolCall("2"), toolResult("2", "ok")]))).toBeUndefined();
    // an earlier turn's results do not count for a new user message
    expect(match(request([...turn, toolCall("1"), toolResult("1", "ok"), { role: "user", content: "KODO-PHASE: build again" }]))).toBe("write");
  });

  it("matches `user` against the last user message and `anyUser` against all", () => {
    const history = [system, { role: "user", content: "KODO-PHASE: build" }, { role: "assistant", content: "ok" }, { role: "user", content: "and then?" }];
    expect(match(request([...history, toolCall("1"), toolResult("1", "Error: boom")]))).toBe("after-failed-write");
    expect(match(request(history))).toBeUndefined();
  });

  it("matches on the system prompt, and falls back to the default reply", () => {
    expect(match({ messages: [{ role: "system", content: "a special system prompt" }, { role: "user", content: "hi" }] })).toBe("system-only");
    const withDefault = parseScript({ version: 1, rules: [], default: { text: "fallback" } });
    expect(matchRule(withDefault, requestFacts({ messages: [{ role: "user", content: "anything" }] }))).toEqual({ rule: "default", reply: { text: "fallback" } });
  });
});
