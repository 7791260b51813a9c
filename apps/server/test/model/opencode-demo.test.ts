/**
 * The shipped demo script drives the real OpenCode (1.18.33) through kodo's offline demo task:
 * a plan via structured output, then a build that writes a function and a passing test.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Plan } from "@kodo/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { loadScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { openCodeBinary, startOpenCode, type OpenCodeServer } from "./opencode-harness.js";

const DEMO_SCRIPT = fileURLToPath(new URL("../../assets/model-scripts/demo.json", import.meta.url));
const TASK = "Add a function slugify(text) in src/slugify.js that lowercases the text, trims it and joins the words with '-', and a test for it in test/slugify.test.js.";
const PLAN_PROMPT = `KODO-PHASE: plan\nYou are planning a change to the repository in your working directory. Do not modify anything.\n\nTask: slugify\n\n${TASK}`;
const BUILD_PROMPT = `KODO-PHASE: build\nImplement the approved plan below in your working directory.\n\nTask: slugify\n\n${TASK}`;

const TurnResult = z.object({
  info: z.looseObject({ finish: z.string().optional(), structured: z.unknown().optional(), error: z.unknown().optional() }),
  parts: z.array(z.looseObject({ type: z.string(), text: z.string().optional(), tool: z.string().optional() })),
});

function git(cwd: string, ...args: string[]): void {
  execFileSync("git", ["-c", "user.name=kodo", "-c", "user.email=kodo@example.invalid", ...args], { cwd, timeout: 15_000, stdio: "pipe" });
}

function createSampleRepo(dir: string): void {
  mkdirSync(path.join(dir, "src"), { recursive: true });
  writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "sample", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`);
  writeFileSync(path.join(dir, "src", "index.js"), "export function hello(name) {\n  return `hello ${name}`;\n}\n");
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "sample");
}

describe.skipIf(!existsSync(openCodeBinary()))("demo script with the real OpenCode", () => {
  let temp: string;
  let repo: string;
  let model: ScriptedModelServer;
  let opencode: OpenCodeServer | undefined;

  beforeAll(async () => {
    temp = mkdtempSync(path.join(os.tmpdir(), "kodo-demo-"));
    repo = path.join(temp, "repo");
    createSampleRepo(repo);
    model = await startScriptedModelServer({ script: loadScript(DEMO_SCRIPT) });
    opencode = await startOpenCode({ stateDir: path.join(temp, "opencode"), modelBaseUrl: model.url });
  });

  afterAll(async () => {
    if (opencode !== undefined) {
      await fetch(`${opencode.url}/global/dispose`, { method: "POST", headers: opencode.headers, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      await opencode.stop();
    }
    await model?.close();
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
  });

  async function call(method: string, route: string, body?: unknown, timeoutMs = 90_000): Promise<unknown> {
    if (opencode === undefined) throw new Error("opencode is not running");
    const response = await fetch(`${opencode.url}${route}${route.includes("?") ? "&" : "?"}directory=${encodeURIComponent(repo)}`, {
      method,
      headers: opencode.headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${route} → ${response.status}: ${text}\n${opencode.output()}`);
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  }

  async function prompt(sessionId: string, body: Record<string, unknown>): Promise<z.infer<typeof TurnResult>> {
    return TurnResult.parse(await call("POST", `/session/${sessionId}/message`, body));
  }

  async function createSession(title?: string): Promise<string> {
    const session = z.object({ id: z.string() }).parse(await call("POST", "/session", title === undefined ? {} : { title }));
    return session.id;
  }

  it("plans with StructuredOutput, then writes slugify and a passing test", async () => {
    const sessionId = await createSession("kodo demo: slugify");

    const planned = await prompt(sessionId, {
      agent: "plan",
      parts: [{ type: "text", text: PLAN_PROMPT }],
      format: { type: "json_schema", schema: z.toJSONSchema(Plan) },
    });
    expect(planned.info.error).toBeUndefined();
    expect(planned.info.finish).toBe("tool-calls");
    const plan = Plan.parse(planned.info.structured);
    expect(plan.files).toEqual(["src/slugify.js", "test/slugify.test.js"]);
    expect(existsSync(path.join(repo, "src", "slugify.js"))).toBe(false);

    const built = await prompt(sessionId, { agent: "build", parts: [{ type: "text", text: BUILD_PROMPT }] });
    expect(built.info.error).toBeUndefined();
    expect(built.info.finish).toBe("stop");
    expect(built.parts.filter((part) => part.type === "text").map((part) => part.text).join("")).toContain("Added slugify(text)");

    expect(readFileSync(path.join(repo, "src", "slugify.js"), "utf8")).toContain("export function slugify(text)");
    expect(readFileSync(path.join(repo, "test", "slugify.test.js"), "utf8")).toContain('from "node:test"');
    const testRun = execFileSync(process.execPath, ["--test"], { cwd: repo, timeout: 60_000, encoding: "utf8", stdio: "pipe" });
    expect(testRun).toMatch(/# pass 3/);
    expect(testRun).toMatch(/# fail 0/);

    const stats = model.stats();
    expect(stats).toMatchObject({
      requests: 4,
      unmatched: 0,
      invalid: 0,
      byRule: { title: 0, plan: 1, "build-write-source": 1, "build-write-test": 1, "build-summary": 1 },
    });
    expect(stats.log.map((entry) => entry.rule)).toEqual(["plan", "build-write-source", "build-write-test", "build-summary"]);
    const [planRequest, writeSource, writeTest, summary] = stats.log;
    expect(planRequest?.tools).toContain("StructuredOutput");
    expect(planRequest?.lastUser).toContain("KODO-PHASE: plan");
    expect(writeSource?.tools).toContain("write");
    expect(writeSource?.tools).not.toContain("StructuredOutput");
    expect(writeTest?.lastToolResult).toContain("Wrote file successfully");
    expect(summary?.lastUser).toContain("KODO-PHASE: build");
  });

  it("gets a session-title request when no title is given, and answers it by the title rule", async () => {
    await fetch(`${model.url.replace(/\/v1$/, "")}/_kodo/reset`, { method: "POST", signal: AbortSignal.timeout(5_000) });
    const sessionId = await createSession();
    const planned = await prompt(sessionId, {
      agent: "plan",
      parts: [{ type: "text", text: PLAN_PROMPT }],
      format: { type: "json_schema", schema: z.toJSONSchema(Plan) },
    });
    expect(Plan.safeParse(planned.info.structured).success).toBe(true);
    // the title is generated beside the turn: wait for it (bounded)
    await expect.poll(() => model.stats().byRule["title"], { timeout: 30_000 }).toBe(1);
    const title = model.stats().log.find((entry) => entry.rule === "title");
    expect(title?.tools).toEqual([]);
    expect(title?.lastUser).toContain("KODO-PHASE: plan"); // so `user` rules must come after the title rule
    expect(model.stats()).toMatchObject({ requests: 2, unmatched: 0, byRule: { plan: 1, title: 1 } });
  });
});
