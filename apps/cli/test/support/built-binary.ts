/** The built `kodo` binary as a child process, for tests that run it as a user would. */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const APPS = fileURLToPath(new URL("../../..", import.meta.url));
export const MAIN = path.join(APPS, "cli", "dist", "main.js");

export interface BinaryResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node apps/cli/dist/main.js …argv` in `cwd` with exactly `env` (killed after 20 s). */
export function runKodo(argv: readonly string[], cwd: string, env: Record<string, string>): Promise<BinaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function newest(dir: string, extension: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .reduce((latest, entry) => Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs), 0);
}

/** Refuses to test a stale build: each `[sources, output]` pair is relative to apps/. */
export function assertBuilt(pairs: readonly (readonly [string, string])[]): void {
  for (const [sources, output] of pairs) {
    if (newest(path.join(APPS, sources), ".ts") > newest(path.join(APPS, output), ".js")) {
      throw new Error(`apps/${output} is older than apps/${sources}: run \`npx tsc -b apps/cli\` first`);
    }
  }
}

/**
 * A temporary `base/` with `home/` (an empty KODO_HOME), `secret.py`, and the worktree `wt/` with
 * `tests/test_a.py` and `tests/link.py`, a symlink escaping to `../../secret.py`.
 */
export function makeScopeLayout(prefix: string): { base: string; wt: string } {
  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  const wt = path.join(base, "wt");
  mkdirSync(path.join(wt, "tests"), { recursive: true });
  mkdirSync(path.join(base, "home"));
  writeFileSync(path.join(wt, "tests", "test_a.py"), "def test_a(): pass\n");
  writeFileSync(path.join(base, "secret.py"), "x\n");
  symlinkSync("../../secret.py", path.join(wt, "tests", "link.py"));
  return { base, wt };
}
