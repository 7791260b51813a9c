/**
 * The built `kodo` binary as a user runs it: a child process, real exit codes, real signals.
 * `npm test` builds first; this refuses to test a stale build rather than pass on old code.
 */
import { spawn } from "node:child_process";
import { MAIN, runKodo, type BinaryResult } from "./support/built-binary.js";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTask } from "./support/fixtures.js";
import { startKodoStub, type KodoStub } from "./support/kodo-stub.js";

const CLI_ROOT = fileURLToPath(new URL("..", import.meta.url));

function kodo(argv: string[], env: Record<string, string> = {}): Promise<BinaryResult> {
  return runKodo(argv, process.cwd(), { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...env });
}

async function newestMtime(dir: string, extension: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(extension)) newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

describe("the kodo binary", { timeout: 30_000 }, () => {
  let stub: KodoStub;
  let home: string;

  beforeAll(async () => {
    const built = await stat(MAIN).then(
      () => true,
      () => false,
    );
    if (!built) throw new Error(`${MAIN} is missing: run \`npm run build\` (npx tsc -b apps/cli) first`);
    const [sources, output] = await Promise.all([newestMtime(path.join(CLI_ROOT, "src"), ".ts"), newestMtime(path.join(CLI_ROOT, "dist"), ".js")]);
    if (sources > output) throw new Error("apps/cli/dist is older than apps/cli/src: run `npm run build` (npx tsc -b apps/cli) first");
    stub = await startKodoStub();
    home = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-bin-"));
  });
  afterAll(async () => {
    await stub?.close();
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it("prints its version", async () => {
    expect(await kodo(["--version"])).toEqual({ code: 0, stdout: "kodo 0.1.0\n", stderr: "" });
  });

  it("exits 2 with the usage on stderr for a usage error", async () => {
    const result = await kodo(["task", "show"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("kodo: USAGE: missing TASK_ID");
    expect(result.stderr).toContain("Usage: kodo task show TASK_ID");
  });

  it("exits 5 with SERVER_NOT_RUNNING when no server is known", async () => {
    const result = await kodo(["task", "list"], { KODO_HOME: home });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("kodo: SERVER_NOT_RUNNING:");
  });

  it("talks to the server named in $KODO_HOME/server.json and exits as soon as it is done", async () => {
    stub.tasks.set("tsk_abc123", makeTask());
    await writeFile(path.join(home, "server.json"), JSON.stringify({ url: stub.url, pid: process.pid }));
    const result = await kodo(["task", "list", "--json"], { KODO_HOME: home });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ tasks: [makeTask()] });
    const missing = await kodo(["task", "show", "tsk_nothere", "--json"], { KODO_HOME: home });
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toEqual({ error: { code: "NOT_FOUND", message: "task tsk_nothere not found" } });
  });

  it("serves a scripted model (the real @kodo/server) until SIGINT, then exits 0", async () => {
    const script = path.join(home, "script.json");
    await writeFile(script, JSON.stringify({ version: 1, rules: [], default: { text: "hello" } }));
    const child = spawn(process.execPath, [MAIN, "model", "serve", "--script", script, "--port", "0", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let stdout = "";
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const document = await new Promise<{ url: string; env: Record<string, string> }>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          try {
            resolve(JSON.parse(stdout) as { url: string; env: Record<string, string> });
          } catch {
            // not complete yet
          }
        });
        child.once("exit", (code) => reject(new Error(`model serve exited ${code}: ${stderr}`)));
      });
      expect(document.env).toEqual({ KODO_MODEL_BASE_URL: document.url, KODO_MODEL: "scripted-1" });
      const models = await fetch(`${document.url}/models`, { signal: AbortSignal.timeout(5_000) });
      expect(((await models.json()) as { data: { id: string }[] }).data[0]?.id).toBe("scripted-1");
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stderr).toContain("the scripted model stopped");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("exits 4 for an invalid model script", async () => {
    const script = path.join(home, "bad.json");
    await writeFile(script, JSON.stringify({ version: 2 }));
    const result = await kodo(["model", "serve", "--script", script]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("kodo: SCRIPT_INVALID:");
  });
});
