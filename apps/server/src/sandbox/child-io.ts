/**
 * What both runners share: bounded waits (never an unbounded wait on "close": an orphan holding
 * stdout can delay it for as long as it lives), output capture, and the exit as a value.
 */
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { OutputCapture } from "./output-capture.js";
import type { SandboxPlan } from "./sandbox-plan.js";
import type { CapturedOutput } from "./types.js";

export type ChildExit = { kind: "exited"; code: number | null; signal: NodeJS.Signals | null } | { kind: "failed"; error: Error };

/** Settles once: on "exit", or on "error" before the process ever started. */
export function watchExit(child: ChildProcess): Promise<ChildExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ kind: "exited", code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ kind: "exited", code, signal }));
    child.once("error", (error) => {
      if (child.pid === undefined) resolve({ kind: "failed", error });
    });
  });
}

/** The promise's value, or undefined when it did not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 10 ms for at most `ms`; true when it held. */
export async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    if (done()) return true;
    if (performance.now() >= until) return false;
    await sleep(10);
  }
}

export interface Outputs {
  stdout: OutputCapture;
  stderr: OutputCapture;
}

export function captureOutputs(child: ChildProcess, plan: SandboxPlan): Outputs {
  const fileFor = (name: string): string | undefined => (plan.fullOutputDir === undefined ? undefined : path.join(plan.fullOutputDir, name));
  const outputs = {
    stdout: new OutputCapture(plan.maxOutputBytes, fileFor("stdout.log")),
    stderr: new OutputCapture(plan.maxOutputBytes, fileFor("stderr.log")),
  };
  if (child.stdout !== null) outputs.stdout.follow(child.stdout);
  if (child.stderr !== null) outputs.stderr.follow(child.stderr);
  return outputs;
}

function ended(stream: Readable | null): Promise<void> {
  if (stream === null || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
  });
}

/**
 * Waits up to `ms` for both pipes to reach end-of-file, then destroys them (a process we could
 * not end may still hold them), and returns the captures. Notes say what was cut short.
 */
export async function collectOutputs(child: ChildProcess, outputs: Outputs, ms: number, notes: string[]): Promise<{ stdout: CapturedOutput; stderr: CapturedOutput }> {
  const drained = await within(Promise.all([ended(child.stdout), ended(child.stderr)]), ms);
  if (drained === undefined) notes.push(`output pipes still open ${ms} ms after the end: closed by kodo`);
  child.stdout?.destroy();
  child.stderr?.destroy();
  const [stdout, stderr] = await Promise.all([outputs.stdout.finish(), outputs.stderr.finish()]);
  for (const error of [stdout.fileError, stderr.fileError]) if (error !== undefined) notes.push(error);
  return { stdout: stdout.output, stderr: stderr.output };
}

/** Name of signal `number` (e.g. 9 → "SIGKILL"), if it is one. */
export function signalName(number: number): string | undefined {
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
}

