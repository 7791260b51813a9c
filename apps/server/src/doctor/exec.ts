/** Small, bounded probes of the machine for the doctor's checks: a command, a TCP connect. */
import { execFile } from "node:child_process";
import net from "node:net";

export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** why it failed: not found, timed out, exit N */
  error?: string;
}

/** Runs `file args` without a shell; killed (SIGKILL) after `timeoutMs` or when `signal` aborts. */
export function runCommand(file: string, args: readonly string[], options: { timeoutMs: number; signal: AbortSignal; env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: options.timeoutMs, killSignal: "SIGKILL", signal: options.signal, maxBuffer: 1024 * 1024, ...(options.env === undefined ? {} : { env: options.env }) },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ ok: true, stdout, stderr });
          return;
        }
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === "ENOENT"
            ? "not found"
            : error.killed || error.name === "AbortError"
              ? `no answer within ${options.timeoutMs} ms (killed)`
              : `exit ${String(code ?? error.signal ?? "?")}`;
        resolve({ ok: false, stdout, stderr, error: `${why}${stderr.trim() === "" ? "" : `: ${stderr.trim().slice(0, 300)}`}` });
      },
    );
  });
}

/** True when something accepts a TCP connection at host:port within `timeoutMs`. */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** The first `a.b.c` in `text` as numbers ([major, minor, patch]); undefined when there is none. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

/** a ≥ b, component by component */
export function versionAtLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let index = 0; index < minimum.length; index += 1) {
    const have = version[index] ?? 0;
    const need = minimum[index] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}
