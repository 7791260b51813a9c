/**
 * The coding stage's checks on what the agent wrote: does it parse (`node --check`, which parses
 * and runs nothing: SYNTAXERROR), and do its tests pass (`node --test`, run in kodo's sandbox —
 * read-only root, the tree writable, no network, the kodo home hidden: TESTFAIL).
 */
import { execFile } from "node:child_process";
import { runSandboxed } from "../sandbox/index.js";

export interface CheckResult {
  ok: boolean;
  /** what the check printed, for stderr.txt */
  output: string;
}

const SYNTAX_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 120_000;

/** `node --check FILE`: parses the module, runs none of it. */
export function syntaxCheck(file: string): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--check", file],
      { timeout: SYNTAX_TIMEOUT_MS, env: { PATH: process.env["PATH"] ?? "" }, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => resolve({ ok: error === null, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

export interface TestRunOptions {
  /** the tree (cwd and the only writable path) */
  directory: string;
  /** hidden from the test: the kodo home, the ledger */
  masked: string[];
  /** bubblewrap missing or broken: run unconfined (KODO_AGENT_SANDBOX=auto/off) instead of failing */
  allowUnsandboxed: boolean;
}

/** `node --test FILE` in the sandbox. */
export async function runNodeTest(file: string, o: TestRunOptions): Promise<CheckResult> {
  const result = await runSandboxed({
    command: [process.execPath, "--test", file],
    cwd: o.directory,
    writable: [o.directory],
    masked: o.masked,
    network: false,
    env: { PATH: process.env["PATH"] ?? "", NODE_OPTIONS: "" },
    timeoutMs: TEST_TIMEOUT_MS,
    allowUnsandboxed: o.allowUnsandboxed,
  });
  const how = result.sandboxed ? "sandboxed" : "UNSANDBOXED";
  const ending = result.timedOut ? `timed out after ${TEST_TIMEOUT_MS} ms` : `exit ${result.exitCode ?? result.signal ?? "?"}`;
  return {
    ok: !result.timedOut && result.exitCode === 0,
    output: [`node --test ${file} (${how}): ${ending}`, result.stdout.text.trim(), result.stderr.text.trim()].filter((part) => part !== "").join("\n"),
  };
}
