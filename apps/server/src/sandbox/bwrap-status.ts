/**
 * bwrap's `--json-status-fd` stream: one JSON object per line. The first says which pid (seen
 * from the host) is the sandbox's init and which pid namespace it leads; the last gives the exit
 * code. We need the first, as early as possible.
 */
import type { Readable } from "node:stream";

export interface SandboxStart {
  /** host pid of bwrap's child: init (pid 1) of the sandbox's pid namespace */
  childPid: number;
  /** inode of that pid namespace */
  pidNamespace: number;
}

function parseStart(line: string): SandboxStart | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const childPid = (value as Record<string, unknown>)["child-pid"];
  const pidNamespace = (value as Record<string, unknown>)["pid-namespace"];
  if (typeof childPid !== "number" || typeof pidNamespace !== "number") return undefined;
  return { childPid, pidNamespace };
}

/** Resolves with the start record, or undefined if the stream ends without one (bwrap failed early). */
export function readSandboxStart(stream: Readable | null | undefined): Promise<SandboxStart | undefined> {
  if (stream === null || stream === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let buffered = "";
    let settled = false;
    const settle = (start: SandboxStart | undefined): void => {
      if (settled) return;
      settled = true;
      resolve(start);
    };
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      if (settled) return;
      buffered += chunk;
      // bwrap 0.8 pretty-prints with --info-fd but writes one line per object with --json-status-fd
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const start = parseStart(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        if (start !== undefined) {
          settle(start);
          return;
        }
      }
      const whole = parseStart(buffered);
      if (whole !== undefined) settle(whole);
    });
    stream.on("end", () => settle(parseStart(buffered)));
    stream.on("close", () => settle(undefined));
    stream.on("error", () => settle(undefined));
  });
}
