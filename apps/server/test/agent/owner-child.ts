/**
 * A separate kodo-like process that starts an OpenCode server through the real supervisor, so a
 * test can SIGKILL it and leave the server behind as a leftover. The agent sources are
 * transpiled (TypeScript's transpileModule, no type check) into a temp dir whose node_modules
 * links to the repo's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { tempDir } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const serverSrc = path.resolve(here, "../../src");
const repoRoot = path.resolve(here, "../../../..");

/**
 * argv: stateDir modelUrl [mode]. mode "hold" (default) keeps running with the server up;
 * "turn-and-stop" runs one agent turn in argv[5] (a directory), stops everything and must then
 * exit on its own: nothing of ours may keep the event loop alive. KODO_TEST_AGENT_SANDBOX (JSON
 * AgentSandboxOptions) starts the server in the agent sandbox.
 */
const ENTRY = `
import { startOpenCodeServer } from "./src/agent/server-supervisor.js";
import { createOpenCodeRuntime } from "./src/agent/runtime.js";
import { buildPermissions } from "./src/agent/permissions.js";
const [stateDir, baseUrl, mode = "hold", directory] = process.argv.slice(2);
const sandbox = process.env.KODO_TEST_AGENT_SANDBOX ? JSON.parse(process.env.KODO_TEST_AGENT_SANDBOX) : undefined;
const server = await startOpenCodeServer({
  stateDir,
  model: { baseUrl, apiKey: "owner-key", model: "scripted-1" },
  logFile: stateDir + "/opencode.log",
  ...(sandbox ? { sandbox } : {}),
});
process.stdout.write(JSON.stringify({ pid: server.pid, url: server.url, password: server.password }) + "\\n");
if (mode === "hold") {
  setInterval(() => undefined, 1 << 30);
} else {
  const runtime = createOpenCodeRuntime(server);
  const { sessionId } = await runtime.createSession({ directory, title: "exit test", permission: buildPermissions() });
  const result = await runtime.prompt({ sessionId, directory, agent: "build", text: "say ok", stallMs: 30000, timeoutMs: 60000 });
  const report = await server.stop();
  process.stdout.write(JSON.stringify({ text: result.text, report }) + "\\n");
}
`;

/** Builds the owner program once per test file; returns the path of its entry script. */
export function buildOwnerProgram(): string {
  const out = tempDir("owner-build");
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(out, "node_modules"), "dir");
  fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({ type: "module" }));
  for (const dir of ["agent", "lib", "sandbox"]) {
    fs.mkdirSync(path.join(out, "src", dir), { recursive: true });
    for (const name of fs.readdirSync(path.join(serverSrc, dir)).filter((file) => file.endsWith(".ts"))) {
      const source = fs.readFileSync(path.join(serverSrc, dir, name), "utf8");
      const { outputText } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
        fileName: name,
      });
      fs.writeFileSync(path.join(out, "src", dir, name.replace(/\.ts$/, ".js")), outputText);
    }
  }
  const entry = path.join(out, "owner.mjs");
  fs.writeFileSync(entry, ENTRY);
  return entry;
}

export interface OwnerInfo {
  child: ChildProcess;
  ownerPid: number;
  serverPid: number;
  url: string;
  password: string;
  /** every stdout line so far (the first is the server info) */
  lines: string[];
  /** performance.now() when each line arrived */
  lineAt: number[];
  /** exit code and when it happened (performance.now()) */
  exited: Promise<{ code: number | null; at: number }>;
}

/** Starts the owner and waits for the JSON line it prints once its server is ready. */
export async function startOwner(entry: string, stateDir: string, modelUrl: string, extraArgs: string[] = [], env?: Record<string, string>): Promise<OwnerInfo> {
  const child = spawn(process.execPath, [entry, stateDir, modelUrl, ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  let stderr = "";
  const lines: string[] = [];
  const lineAt: number[] = [];
  let buffer = "";
  let onLine: (() => void) | undefined;
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
      lines.push(buffer.slice(0, newline));
      lineAt.push(performance.now());
      buffer = buffer.slice(newline + 1);
      onLine?.();
    }
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once("exit", (code) => resolve({ code, at: performance.now() })));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`owner did not report within 60 s: ${stderr}`)), 60_000);
    onLine = () => {
      clearTimeout(timer);
      resolve(lines[0] ?? "");
    };
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`owner exited (${code}) before reporting: ${stderr}`));
    });
  });
  onLine = undefined;
  const info = JSON.parse(first) as { pid: number; url: string; password: string };
  const ownerPid = child.pid;
  if (ownerPid === undefined) throw new Error("owner has no pid");
  return { child, ownerPid, serverPid: info.pid, url: info.url, password: info.password, lines, lineAt, exited };
}
