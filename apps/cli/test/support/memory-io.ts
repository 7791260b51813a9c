import type { Io } from "../../src/io.js";

export interface MemoryIo extends Io {
  out: string[];
  err: string[];
  /** stdout as one string */
  stdoutText(): string;
  /** the one JSON document a --json command printed */
  json(): unknown;
  /** what Ctrl-C would do */
  interruptNow(): void;
}

export function memoryIo(env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): MemoryIo {
  const controller = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    env,
    cwd,
    interrupt: controller.signal,
    stdout: (line) => void out.push(line),
    stderr: (line) => void err.push(line),
    stdoutText: () => out.join("\n"),
    json: () => JSON.parse(out.join("\n")) as unknown,
    interruptNow: () => controller.abort("SIGINT"),
  };
}
