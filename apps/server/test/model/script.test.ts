import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Plan } from "@kodo/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { KodoError } from "../../src/lib/errors.js";
import { formatIssuePath, loadScript, parseScript } from "../../src/model/scripted/script.js";

const demoScript = fileURLToPath(new URL("../../assets/model-scripts/demo.json", import.meta.url));

function scriptError(input: unknown): KodoError {
  try {
    parseScript(input);
  } catch (error) {
    if (error instanceof KodoError) return error;
    throw error;
  }
  throw new Error("expected parseScript to throw");
}

const validRule = { name: "hello", when: { user: "hi" }, reply: { text: "hello" } };

describe("parseScript", () => {
  it("accepts a minimal script and fills defaults", () => {
    const script = parseScript({ version: 1, rules: [{ name: "any", reply: { toolCalls: [{ name: "read" }] } }] });
    expect(script.rules[0]?.when).toEqual({});
    expect(script.rules[0]?.reply.toolCalls?.[0]?.arguments).toEqual({});
    expect(script.default).toBeUndefined();
  });

  it("accepts every condition and reply field", () => {
    const script = parseScript({
      version: 1,
      rules: [
        {
          name: "all",
          when: { tool: "write", system: "opencode", user: "x", anyUser: "y", toolResults: 2, lastToolResult: "ok", titleRequest: false },
          reply: { text: "t {{directory}}", toolCalls: [{ name: "write", arguments: { filePath: "{{ directory }}/a.js" } }], usage: { prompt_tokens: 1, completion_tokens: 2 }, delayMs: 5 },
        },
        { name: "slow", reply: { hang: true } },
        { name: "broken", reply: { error: { status: 503, message: "overloaded" }, delayMs: 0 } },
      ],
      default: { text: "fallback" },
    });
    expect(script.rules.map((rule) => rule.name)).toEqual(["all", "slow", "broken"]);
  });

  it.each([
    [{ version: 1, rules: [validRule, validRule] }, "rules[1].name: duplicate rule name \"hello\""],
    [{ version: 1, rules: [validRule, { name: "a", reply: { text: "" } }, { name: "x", reply: { toolCalls: [{ arguments: {} }] } }] }, "rules[2].reply.toolCalls[0].name: Required"],
    [{ version: 2, rules: [] }, "version: "],
    [{ rules: [] }, "version: "],
    [{ version: 1 }, "rules: Required"],
    [{ version: 1, rules: [], extra: true }, "(root): Unrecognized key: \"extra\""],
    [{ version: 1, rules: [{ name: "a", when: { usr: "typo" }, reply: { text: "" } }] }, "rules[0].when: Unrecognized key: \"usr\""],
    [{ version: 1, rules: [{ name: "a", when: { toolResults: -1 }, reply: { text: "" } }] }, "rules[0].when.toolResults: "],
    [{ version: 1, rules: [{ name: "a", reply: {} }] }, "rules[0].reply: needs one of text, toolCalls, error or hang"],
    [{ version: 1, rules: [{ name: "a", reply: { text: "x", hang: true } }] }, "rules[0].reply: text/toolCalls, error and hang exclude each other"],
    [{ version: 1, rules: [{ name: "a", reply: { error: { status: 200, message: "no" } } }] }, "rules[0].reply.error.status: "],
    [{ version: 1, rules: [{ name: "a", reply: { toolCalls: [] } }] }, "rules[0].reply.toolCalls: must hold at least one tool call"],
    [{ version: 1, rules: [{ name: "a", reply: { text: "{{cwd}}" } }] }, "rules[0].reply.text: unknown template variable {{cwd}}"],
    [
      { version: 1, rules: [{ name: "a", reply: { toolCalls: [{ name: "write", arguments: { files: [{ path: "{{dir}}/x" }] } }] } }] },
      "rules[0].reply.toolCalls[0].arguments.files[0].path: unknown template variable {{dir}}",
    ],
    [{ version: 1, rules: [{ name: "default", reply: { text: "x" } }] }, "rules[0].name: \"default\" is reserved"],
    [{ version: 1, rules: [], default: { delayMs: 5 } }, "default: needs one of"],
    [{ version: 1, rules: [], default: { text: "x", delayMs: 600_001 } }, "default.delayMs: "],
    ["not an object", "(root): "],
  ])("rejects %j with SCRIPT_INVALID naming the path", (input, expected) => {
    const error = scriptError(input);
    expect(error.code).toBe("SCRIPT_INVALID");
    expect(error.message).toContain(expected);
    expect(error.details?.["issues"]).toBeInstanceOf(Array);
  });

  it("formats issue paths", () => {
    expect(formatIssuePath(["rules", 2, "reply", "toolCalls", 0, "name"])).toBe("rules[2].reply.toolCalls[0].name");
    expect(formatIssuePath([])).toBe("(root)");
  });
});

describe("loadScript", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kodo-script-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads the shipped demo script", () => {
    const script = loadScript(demoScript);
    expect(script.rules.map((rule) => rule.name)).toEqual(["title", "plan", "build-write-source", "build-write-test", "build-summary"]);
    const planCall = script.rules.find((rule) => rule.name === "plan")?.reply.toolCalls?.[0];
    expect(planCall?.name).toBe("StructuredOutput");
    expect(Plan.safeParse(planCall?.arguments).success).toBe(true);
  });

  it("names the file and the path when the script is invalid", () => {
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ version: 1, rules: [{ name: "a", reply: { toolCalls: [{}] } }] }));
    expect(() => loadScript(file)).toThrow(/bad\.json: rules\[0\]\.reply\.toolCalls\[0\]\.name: Required/);
  });

  it("rejects a file that is not JSON, or missing, as SCRIPT_INVALID", () => {
    const file = path.join(dir, "junk.json");
    writeFileSync(file, "{ nope");
    expect(() => loadScript(file)).toThrow(expect.objectContaining({ code: "SCRIPT_INVALID", message: expect.stringContaining("not valid JSON") }));
    expect(() => loadScript(path.join(dir, "missing.json"))).toThrow(expect.objectContaining({ code: "SCRIPT_INVALID" }));
  });
});
