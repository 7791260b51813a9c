/**
 * The scripted model for the agent tests, plus a recording proxy in front of it (to see the
 * Authorization header OpenCode sends).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";

/**
 * What an agent's shell may leave behind: a double fork, a new session (setsid), and a new session
 * with an empty environment (no marker). The sleep durations make their command lines unique.
 */
export const ESCAPE_SLEEPS = { doubleFork: "600.4242", setsid: "601.4242", cleanEnv: "602.4242" } as const;
const ESCAPE_COMMAND = [
  `(sleep ${ESCAPE_SLEEPS.doubleFork} >/dev/null 2>&1 &);`,
  `setsid sleep ${ESCAPE_SLEEPS.setsid} >/dev/null 2>&1 </dev/null &`,
  `setsid env -i /bin/sleep ${ESCAPE_SLEEPS.cleanEnv} >/dev/null 2>&1 </dev/null &`,
  "echo started",
].join(" ");

/** Markers in the prompt text select the rule. */
export const agentTestScript = parseScript({
  version: 1,
  rules: [
    { name: "title", when: { titleRequest: true }, reply: { text: "A title" } },
    {
      name: "build-write",
      when: { user: "WRITE_FILE", toolResults: 0 },
      reply: { toolCalls: [{ name: "write", arguments: { filePath: "{{directory}}/hello.txt", content: "hello from kodo\n" } }] },
    },
    { name: "build-write-done", when: { user: "WRITE_FILE", toolResults: 1 }, reply: { text: "wrote hello.txt" } },
    {
      name: "plan-structured",
      when: { user: "PLAN_JSON", tool: "StructuredOutput" },
      reply: { toolCalls: [{ name: "StructuredOutput", arguments: { summary: "add a greeting", steps: ["write hello.txt", "test it"] } }] },
    },
    {
      name: "plan-write",
      when: { user: "PLAN_WRITE", toolResults: 0 },
      reply: { toolCalls: [{ name: "write", arguments: { filePath: "{{directory}}/plan-was-here.txt", content: "nope\n" } }] },
    },
    { name: "plan-write-after", when: { user: "PLAN_WRITE", toolResults: 1 }, reply: { text: "the write was refused" } },
    {
      name: "plan-bash",
      when: { user: "PLAN_BASH", toolResults: 0 },
      reply: { toolCalls: [{ name: "bash", arguments: { command: "touch plan-bash-was-here.txt", description: "touch a file" } }] },
    },
    { name: "plan-bash-after", when: { user: "PLAN_BASH", toolResults: 1 }, reply: { text: "bash was refused" } },
    {
      name: "env-dump",
      when: { user: "DUMP_ENV", toolResults: 0 },
      reply: {
        toolCalls: [
          {
            name: "bash",
            arguments: { command: "env > env.txt; tr '\\0' '\\n' < /proc/$OPENCODE_PID/environ > server-environ.txt", description: "dump the environment" },
          },
        ],
      },
    },
    { name: "env-dump-after", when: { user: "DUMP_ENV", toolResults: 1 }, reply: { text: "dumped" } },
    {
      name: "escape",
      when: { user: "ESCAPE", toolResults: 0 },
      reply: {
        toolCalls: [
          {
            name: "bash",
            arguments: {
              command: ESCAPE_COMMAND,
              description: "start background sleepers",
            },
          },
        ],
      },
    },
    { name: "escape-then-hang", when: { user: "ESCAPE", toolResults: 1 }, reply: { hang: true } },
    { name: "hang", when: { user: "HANG" }, reply: { hang: true } },
    { name: "server-error", when: { user: "FAIL_5XX" }, reply: { error: { status: 503, message: "overloaded" } } },
  ],
  default: { text: "ok" },
});

export interface RecordingModel {
  /** base URL ending in /v1 (the proxy) */
  url: string;
  scripted: ScriptedModelServer;
  authorizations: string[];
  close(): Promise<void>;
}

export async function startRecordingModel(): Promise<RecordingModel> {
  const scripted = await startScriptedModelServer({ script: agentTestScript });
  const target = new URL(scripted.url);
  const authorizations: string[] = [];
  const proxy = http.createServer((request, response) => {
    authorizations.push(request.headers.authorization ?? "");
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    response.on("close", () => upstream.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    scripted,
    authorizations,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await scripted.close();
    },
  };
}
