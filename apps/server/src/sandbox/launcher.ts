/**
 * The front door: check the spec, make sure bubblewrap works, run confined; without bubblewrap,
 * refuse (SANDBOX_UNAVAILABLE) unless the user opted out, and then run unconfined with
 * process-group cleanup, saying so in the result.
 *
 * Spawn from the main thread: `--die-with-parent` follows the thread that spawned bwrap, and a
 * sandbox started from a worker_thread dies with the worker.
 */
import { isMainThread } from "node:worker_threads";
import { KodoError } from "../lib/errors.js";
import { probeBwrap } from "./probe.js";
import { runInBwrap } from "./run-in-bwrap.js";
import { runUnsandboxed } from "./run-unsandboxed.js";
import { planSandbox } from "./sandbox-plan.js";
import type { SandboxResult, SandboxSpec } from "./types.js";

export { probeSandbox } from "./probe.js";
export type { CapturedOutput, SandboxProbe, SandboxResult, SandboxSpec } from "./types.js";

export async function runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
  if (!isMainThread) {
    throw new KodoError("SANDBOX_FAILED", "runSandboxed must be called from the main thread (--die-with-parent follows the spawning thread)");
  }
  const plan = planSandbox(spec);
  const probe = await probeBwrap();
  if (probe.available && probe.path !== undefined) return runInBwrap(plan, probe.path);
  const reason = probe.reason ?? "bubblewrap probe failed";
  if (!plan.allowUnsandboxed) {
    throw new KodoError("SANDBOX_UNAVAILABLE", reason, { details: { hint: "install bubblewrap, or allow unsandboxed runs explicitly" } });
  }
  return runUnsandboxed(plan, `bubblewrap unavailable (${reason}): ran unsandboxed with process-group cleanup (user opt-out)`);
}
