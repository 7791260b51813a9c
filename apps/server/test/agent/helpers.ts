/** Shared pieces of the agent tests: temp dirs, a git repo, and /proc checks for leftovers. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { STATE_MARKER_ENV } from "../../src/agent/pidfile.js";
import { findProcessesWithEnv, readCmdline } from "../../src/agent/process-table.js";

const created = new Set<string>();
const stateDirs = new Set<string>();

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kodo-agent-${prefix}-`));
  created.add(dir);
  return dir;
}

/** A temp state dir for an OpenCode server; removeTempDirs() ends whatever still carries its marker. */
export function tempStateDir(prefix: string): string {
  const dir = tempDir(prefix);
  stateDirs.add(dir);
  return dir;
}

/**
 * For the end of afterAll: SIGKILL anything still marked with one of our state dirs (normally
 * nothing: the tests assert that first), then remove the temp dirs (kept when
 * KODO_KEEP_TEST_DIRS=1, for post-mortems). Vitest's fork workers end without running
 * process "exit" handlers, so this cannot be left to an exit hook.
 */
export function removeTempDirs(): void {
  for (const stateDir of stateDirs) {
    for (const { pid } of markedProcesses(stateDir)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  if (process.env["KODO_KEEP_TEST_DIRS"] !== "1") {
    for (const dir of created) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  }
  created.clear();
  stateDirs.clear();
}

/** Processes still carrying the marker of any state dir this test file created (expected: none). */
export function leftoverProcesses(): { pid: number; cmdline: string }[] {
  return [...stateDirs].flatMap((dir) => markedProcesses(dir));
}

/** A git repo with one commit (OpenCode treats it as a project). */
export function gitRepo(prefix: string): string {
  const dir = tempDir(prefix);
  const git = (...args: string[]): void => {
    execFileSync("git", ["-c", "user.name=kodo", "-c", "user.email=kodo@example.invalid", ...args], { cwd: dir, stdio: "ignore" });
  };
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "README.md"), "# test repo\n");
  git("add", "README.md");
  git("commit", "-q", "-m", "init");
  return dir;
}

/** Live processes started for this state dir (the server and whatever its tools spawned). */
export function markedProcesses(stateDir: string): { pid: number; cmdline: string }[] {
  return findProcessesWithEnv(STATE_MARKER_ENV, path.resolve(stateDir)).map((pid) => ({
    pid,
    cmdline: (readCmdline(pid) ?? []).join(" "),
  }));
}

export async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
