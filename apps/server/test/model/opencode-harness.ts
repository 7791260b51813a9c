/**
 * Test harness: a real `opencode serve` wired to a model endpoint, isolated in a temp directory.
 * Started in its own process group and stopped by signalling the group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export interface OpenCodeServer {
  url: string;
  pid: number;
  /** headers every call needs (HTTP Basic) */
  headers: Record<string, string>;
  /** output so far, for failure messages */
  output(): string;
  stop(): Promise<void>;
}

export function openCodeBinary(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("opencode-ai/package.json")), "bin", "opencode.exe");
}

/** The inline OpenCode config: a custom OpenAI-compatible provider and explicit permissions. */
export function openCodeConfig(modelBaseUrl: string): Record<string, unknown> {
  return {
    provider: {
      scripted: {
        npm: "@ai-sdk/openai-compatible",
        options: { baseURL: modelBaseUrl, apiKey: "unused" },
        models: { "scripted-1": { name: "Scripted", tool_call: true } },
      },
    },
    model: "scripted/scripted-1",
    small_model: "scripted/scripted-1",
    autoupdate: false,
    share: "disabled",
    lsp: false,
    formatter: false,
    permission: {
      edit: "allow",
      bash: "allow",
      read: "allow",
      glob: "allow",
      grep: "allow",
      list: "allow",
      webfetch: "deny",
      websearch: "deny",
      task: "deny",
      external_directory: "deny",
      doom_loop: "deny",
      question: "deny",
    },
  };
}

const READY = /opencode server listening on (http:\/\/\S+)/;

export async function startOpenCode(options: { stateDir: string; modelBaseUrl: string; readyTimeoutMs?: number }): Promise<OpenCodeServer> {
  const xdg = Object.fromEntries(
    ["DATA", "CONFIG", "STATE", "CACHE"].map((kind) => {
      const dir = path.join(options.stateDir, kind.toLowerCase());
      mkdirSync(dir, { recursive: true });
      return [`XDG_${kind}_HOME`, dir];
    }),
  );
  const password = randomBytes(18).toString("base64url");
  const child = spawn(openCodeBinary(), ["serve", "--port", "0", "--hostname", "127.0.0.1"], {
    cwd: options.stateDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...xdg,
      OPENCODE_CONFIG_CONTENT: JSON.stringify(openCodeConfig(options.modelBaseUrl)),
      OPENCODE_DISABLE_PROJECT_CONFIG: "1",
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_SERVER_PASSWORD: password,
      npm_config_registry: "http://127.0.0.1:9/",
    },
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async (): Promise<void> => {
    await signalGroup(child, "SIGTERM", exited, 5_000);
    await signalGroup(child, "SIGKILL", exited, 5_000);
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`opencode not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`)), options.readyTimeoutMs ?? 60_000);
      const onData = (): void => {
        const match = READY.exec(output);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on("data", onData);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`opencode exited (${code ?? signal}) before it was ready:\n${output}`));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return {
      url,
      pid: child.pid ?? -1,
      headers: { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`, "content-type": "application/json" },
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Signals the child's whole process group and waits (bounded) for the child to exit. The group
 * may outlive its leader, so SIGKILL is sent even when the leader is gone.
 */
async function signalGroup(child: ChildProcess, signal: NodeJS.Signals, exited: Promise<void>, waitMs: number): Promise<void> {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // ESRCH: nothing left in the group
  }
  if (child.exitCode !== null || child.signalCode !== null) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
}
