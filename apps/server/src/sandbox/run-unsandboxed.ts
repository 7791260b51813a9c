/**
 * The user's opt-out when bubblewrap is missing or broken: no confinement at all, only cleanup.
 * The command leads its own process group and carries a marker variable; on timeout the run gets
 * SIGTERM, then up to `graceMs` for the command to exit, then a freeze-and-SIGKILL sweep; after a
 * normal exit the same sweep ends whatever it left running (as the kernel does under bwrap). A process that both leaves the group and clears its
 * environment escapes this unseen (a pid namespace has no such hole).
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { captureOutputs, collectOutputs, watchExit, within } from "./child-io.js";
import { RUN_MARKER_ENV, runMembers, signalRun, sweepRun, type RunIdentity } from "./process-sweep.js";
import type { SandboxPlan } from "./sandbox-plan.js";
import type { SandboxResult } from "./types.js";

const SWEEP_MS = 3_000;

export async function runUnsandboxed(plan: SandboxPlan, why: string): Promise<SandboxResult> {
  const began = performance.now();
  const notes = [why, ...plan.notes, `the environment also holds ${RUN_MARKER_ENV} (the cleanup marker)`];
  const marker = randomUUID();
  const [file, ...args] = plan.command as [string, ...string[]];
  const child = spawn(file, args, {
    cwd: plan.cwd,
    env: { ...plan.env, [RUN_MARKER_ENV]: marker },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own session and process group
  });
  const exit = watchExit(child);
  const outputs = captureOutputs(child, plan);

  const first = (await within(exit, plan.timeoutMs)) ?? "timeout";
  if (first !== "timeout" && first.kind === "failed") {
    notes.push(`could not start ${file}: ${first.error.message}`);
    const { stdout, stderr } = await collectOutputs(child, outputs, 100, notes);
    const cleanup = { method: "process-group" as const, survivors: [] };
    return { exitCode: 127, signal: null, timedOut: false, durationMs: performance.now() - began, stdout, stderr, sandboxed: false, cleanup, notes };
  }

  const pgid = child.pid ?? -1;
  const run: RunIdentity = { pgid, marker, leaderHeld: () => child.exitCode === null && child.signalCode === null };
  const timedOut = first === "timeout";
  if (timedOut) {
    signalRun(run, "SIGTERM");
    // as under bwrap, the command's end is the end of the run: then the sweep SIGKILLs the rest
    await within(exit, plan.graceMs);
    notes.push(`timed out after ${plan.timeoutMs} ms: SIGTERM to the process group and marked processes, SIGKILL after ${plan.graceMs} ms if still running`);
  }
  const leftovers = runMembers(run).filter((pid) => pid !== child.pid);
  const survivors = await sweepRun(run, SWEEP_MS);
  if (!timedOut && leftovers.length > 0) notes.push(`ended ${leftovers.length} process(es) the command left running`);
  const ended = await within(exit, 2_000);
  const { stdout, stderr } = await collectOutputs(child, outputs, 1_000, notes);
  const status = ended?.kind === "exited" ? { exitCode: ended.code, signal: ended.signal } : { exitCode: null, signal: null };
  return {
    ...status,
    timedOut,
    durationMs: performance.now() - began,
    stdout,
    stderr,
    sandboxed: false,
    cleanup: { method: "process-group", survivors },
    notes,
  };
}
