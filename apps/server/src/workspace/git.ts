import { spawn } from "node:child_process";
import { KodoError } from "../lib/errors.js";

/**
 * The one way kodo runs git. No shell; repository hooks and fsmonitor commands are switched off
 * (a repository, or a directory an agent created, must never get to run a program through us);
 * the system config is ignored; git never prompts; every call has a deadline and bounded output.
 */
export interface GitOptions {
  cwd: string;
  /** added to the cleaned environment (e.g. GIT_INDEX_FILE for a temporary index) */
  env?: Record<string, string>;
  /** written to git's stdin */
  input?: string;
  /** default 60 s; on expiry git (and its process group) is killed */
  timeoutMs?: number;
  /** a non-zero exit is returned instead of thrown (timeouts and spawn errors still throw) */
  allowFail?: boolean;
  /** stdout larger than this kills git and throws; default 32 MiB */
  maxOutputBytes?: number;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

export const GIT_SAFETY_CONFIG: readonly string[] = [
  "-c", "core.fsmonitor=false",
  "-c", "core.hooksPath=/dev/null",
  // a temporary index must not leave shared-index files in the gitdir
  "-c", "core.splitIndex=false",
  // never start a background gc/maintenance that outlives the call
  "-c", "gc.auto=0",
  "-c", "maintenance.auto=false",
];

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;

/**
 * Inherited GIT_* variables could point git at another repository (GIT_DIR, GIT_INDEX_FILE…),
 * change pathspec meaning (GIT_LITERAL_PATHSPECS) or inject config: all are dropped except these.
 */
const INHERITED_GIT_VARIABLES = new Set(["GIT_CONFIG_GLOBAL", "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS"]);

export function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (name.startsWith("GIT_") && !INHERITED_GIT_VARIABLES.has(name)) continue;
    env[name] = value;
  }
  return {
    ...env,
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    // `git status` must not refresh (rewrite) the index of the checkout it looks at
    GIT_OPTIONAL_LOCKS: "0",
    ...extra,
  };
}

function gitError(message: string, details: Record<string, unknown>, retryable = false): KodoError {
  return new KodoError("GIT_FAILED", message, { retryable, details });
}

export function runGit(args: readonly string[], opts: GitOptions): Promise<GitResult> {
  const fullArgs = [...GIT_SAFETY_CONFIG, ...args];
  const command = ["git", ...args];
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutput = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  return new Promise<GitResult>((resolve, reject) => {
    const child = spawn("git", fullArgs, {
      cwd: opts.cwd,
      env: gitEnvironment(opts.env),
      stdio: ["pipe", "pipe", "pipe"],
      // its own process group, so a timeout kills git's helpers too
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let settled = false;

    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const fail = (error: KodoError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup();
      reject(error);
    };
    const stderrText = (): string => Buffer.concat(stderr).toString("utf8").trim();

    const timer = setTimeout(() => {
      fail(gitError(`${command.join(" ")} did not finish within ${timeoutMs} ms`, { command, cwd: opts.cwd, reason: "timeout", stderr: stderrText() }, true));
    }, timeoutMs);

    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutput) {
        fail(gitError(`${command.join(" ")} printed more than ${maxOutput} bytes`, { command, cwd: opts.cwd, reason: "output_limit" }));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderrBytes >= MAX_STDERR_BYTES) return;
      const kept = chunk.subarray(0, MAX_STDERR_BYTES - stderrBytes);
      stderrBytes += kept.length;
      stderr.push(kept);
    });
    child.on("error", (error) => {
      fail(gitError(`could not run ${command.join(" ")}: ${error.message}`, { command, cwd: opts.cwd, reason: "spawn" }));
    });
    child.on("close", (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: GitResult = { stdout: Buffer.concat(stdout).toString("utf8"), stderr: stderrText(), code: code ?? -1 };
      if (result.code === 0 || opts.allowFail === true) {
        resolve(result);
        return;
      }
      const why = signal === null ? `exit code ${result.code}` : `signal ${signal}`;
      reject(gitError(`${command.join(" ")} failed (${why}): ${result.stderr.split("\n")[0] ?? ""}`, {
        command,
        cwd: opts.cwd,
        reason: "exit",
        exitCode: result.code,
        stderr: result.stderr,
      }));
    });

    // EPIPE when git exits without reading its input: the exit code tells what happened
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** Splits NUL-separated git output (`-z`), dropping the empty tail. */
export function splitNul(output: string): string[] {
  const parts = output.split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}
