/**
 * Runs a plan under bubblewrap with a private pid namespace. Ending is the kernel's job: when the
 * namespace's init exits (because the command exited, or because we SIGKILL it) every member is
 * SIGKILLed, whatever it did to detach. On timeout: SIGTERM to every member, `graceMs`, SIGKILL
 * to init. Afterwards we check /proc until the namespace is empty and report what is not.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { KodoError } from "../lib/errors.js";
import { buildBwrapArgs } from "./bwrap-args.js";
import { readSandboxStart, type SandboxStart } from "./bwrap-status.js";
import { captureOutputs, collectOutputs, signalName, waitUntil, watchExit, within, type ChildExit } from "./child-io.js";
import { isAlive } from "../agent/process-table.js";
import { HeldNamespace, namespaceMembers } from "./pid-namespace.js";
import type { SandboxPlan } from "./sandbox-plan.js";
import type { SandboxResult } from "./types.js";

/** How long we wait for things that should be near-instant once everything is dead. */
const SETTLE_MS = 2_000;

interface Tracking {
  start: SandboxStart | undefined;
  namespace: HeldNamespace | undefined;
}

function track(child: ChildProcess): { tracking: Tracking; started: Promise<SandboxStart | undefined> } {
  const tracking: Tracking = { start: undefined, namespace: undefined };
  const started = readSandboxStart(child.stdio[3] as Readable | null).then((start) => {
    tracking.start = start;
    // as early as possible: if init already exited, its namespace is being emptied by the kernel
    if (start !== undefined) tracking.namespace = HeldNamespace.hold(start.childPid, start.pidNamespace);
    return start;
  });
  return { tracking, started };
}

/** SIGTERM to every member, `graceMs` for the command to exit, then SIGKILL to init (and to bwrap if need be). */
async function terminate(child: ChildProcess, tracking: Tracking, started: Promise<unknown>, exit: Promise<ChildExit>, graceMs: number): Promise<void> {
  await within(started, 250);
  const namespace = tracking.namespace;
  // without the namespace, SIGTERM ends bwrap itself and --die-with-parent SIGKILLs the sandbox
  if (namespace?.held === true) namespace.signalMembers("SIGTERM");
  else child.kill("SIGTERM");
  if ((await within(exit, graceMs)) !== undefined) return;
  namespace?.killInit();
  if ((await within(exit, 1_000)) !== undefined) return;
  child.kill("SIGKILL");
  await within(exit, SETTLE_MS);
}

/** After bwrap ended: the namespace must be empty. Signals only while we hold it (so a match is ours). */
async function survivorsOf(tracking: Tracking, notes: string[]): Promise<number[]> {
  const { start, namespace } = tracking;
  if (start === undefined) return [];
  const members = (): number[] => namespaceMembers(start.pidNamespace);
  if (await waitUntil(() => members().length === 0, SETTLE_MS)) return [];
  if (namespace?.held === true) {
    notes.push(`processes left in the sandbox's pid namespace after bwrap ended: SIGKILLed (${members().join(", ")})`);
    namespace.killInit();
    namespace.signalMembers("SIGKILL");
    await waitUntil(() => members().length === 0, SETTLE_MS);
  }
  return members();
}

function describeExit(exit: ChildExit | undefined, notes: string[]): { exitCode: number | null; signal: string | null } {
  if (exit === undefined || exit.kind === "failed") return { exitCode: null, signal: null };
  const { code, signal } = exit;
  if (code !== null && code > 128) {
    const name = signalName(code - 128);
    if (name !== undefined) notes.push(`exit code ${code}: bubblewrap reports a command ended by a signal as 128 + its number (${name})`);
  }
  return { exitCode: code, signal };
}

export async function runInBwrap(plan: SandboxPlan, bwrapPath: string): Promise<SandboxResult> {
  const began = performance.now();
  const notes = [...plan.notes];
  const child = spawn(bwrapPath, buildBwrapArgs(plan), { stdio: ["ignore", "pipe", "pipe", "pipe"], env: {} });
  const exit = watchExit(child);
  const outputs = captureOutputs(child, plan);
  const { tracking, started } = track(child);

  const first = (await within(exit, plan.timeoutMs)) ?? "timeout";
  if (first !== "timeout" && first.kind === "failed") {
    await collectOutputs(child, outputs, 0, []); // closes the log files, if any
    throw new KodoError("SANDBOX_FAILED", `could not start bwrap: ${first.error.message}`, { cause: first.error });
  }
  const timedOut = first === "timeout";
  if (timedOut) {
    await terminate(child, tracking, started, exit, plan.graceMs);
    notes.push(`timed out after ${plan.timeoutMs} ms: SIGTERM to the sandbox, SIGKILL after ${plan.graceMs} ms if still running`);
  }
  const ended = await within(exit, SETTLE_MS);
  if (ended === undefined) notes.push(`bwrap (pid ${child.pid ?? "?"}) had not exited ${SETTLE_MS} ms after SIGKILL`);
  await within(started, 100);
  const survivors = await survivorsOf(tracking, notes);
  if (ended === undefined && child.pid !== undefined && isAlive(child.pid)) survivors.push(child.pid);
  tracking.namespace?.release();
  (child.stdio[3] as Readable | null)?.destroy();
  const { stdout, stderr } = await collectOutputs(child, outputs, 1_000, notes);
  return {
    ...describeExit(ended, notes),
    timedOut,
    durationMs: performance.now() - began,
    stdout,
    stderr,
    sandboxed: true,
    cleanup: { method: "pid-namespace", survivors },
    notes,
  };
}
