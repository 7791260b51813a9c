/**
 * Everything a command touches outside itself: output streams, environment, working directory
 * and the interrupt signal. The process wires the real ones; tests pass their own.
 */

export interface Io {
  /** writes one line (a newline is added) to stdout */
  stdout(line: string): void;
  /** writes one line (a newline is added) to stderr */
  stderr(line: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** aborted by the first SIGINT/SIGTERM (reason: the signal name), or "EPIPE" when stdout is closed */
  interrupt: AbortSignal;
}

/** The process's own Io. A second signal while the first is being handled ends the process at once. */
export function processIo(): Io {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`kodo: ${signal} again: exiting now\n`);
      process.exit(130);
    }
    controller.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `kodo logs -f | head`: once the reader is gone, wind down as on Ctrl-C instead of crashing.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE" && !controller.signal.aborted) controller.abort("EPIPE");
    });
  }
  return {
    stdout: (line) => void process.stdout.write(`${line}\n`),
    stderr: (line) => void process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
    interrupt: controller.signal,
  };
}

/** Resolves when `signal` aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Waits `ms` unless `signal` aborts first; true when the whole time passed. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
