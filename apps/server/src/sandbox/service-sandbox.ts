/**
 * A long-running service under bubblewrap (the OpenCode server): the same flags and mount
 * planning as a test run (bwrap-args.ts, sandbox-plan.ts), but with the network shared (the
 * service must reach the model), user namespaces kept so it can nest a sandbox per command
 * (nested-sandbox.ts), and no timeout or output capture: the caller spawns it detached and
 * supervises it like the unsandboxed process. Masked directories are made read-only once the
 * binds below them are in place (`--remount-ro`, not recursive): writing into kodo's masked home
 * fails instead of landing in a throwaway tmpfs.
 *
 * The caller passes the environment as bwrap's own environment, which bwrap hands on unchanged:
 * `--setenv` would put the values (the server password) on bwrap's command line, and
 * /proc/<pid>/cmdline is readable by every user of the host, unlike /proc/<pid>/environ.
 */
import fs from "node:fs";
import { isMainThread } from "node:worker_threads";
import { KodoError } from "../lib/errors.js";
import { baseFlags, mountFlags } from "./bwrap-args.js";
import { nestedCommandFlags, probeNestedSandbox } from "./nested-sandbox.js";
import { probeBwrap } from "./probe.js";
import { isInside, planMounts, type PlannedMount } from "./sandbox-plan.js";

export interface ServiceSandboxSpec {
  /** bound read-write; must exist */
  writable: string[];
  /** bound read-only on top (config the service must not loosen, its API key file) */
  readOnly?: string[];
  /** hidden: directories become an empty tmpfs, files an empty read-only file */
  masked?: string[];
  /** where the service starts; inside a writable path */
  cwd: string;
  /** also hidden from the commands the service runs in nested sandboxes (its own state) */
  hiddenFromCommands?: string[];
}

export interface ServiceSandbox {
  bwrapPath: string;
  /** bwrap's flags; the service's argv follows after `--` */
  flags: string[];
  mounts: PlannedMount[];
  /**
   * argv prefix that runs one command in a nested sandbox inside this one (append the shell and
   * its arguments); undefined when nesting does not work here (see notes)
   */
  nestedCommand: string[] | undefined;
  notes: string[];
}

function invalid(message: string, details: Record<string, unknown>): KodoError {
  return new KodoError("SANDBOX_SPEC_INVALID", message, { details });
}

/**
 * Checks bwrap and the spec, and tries a nested sandbox once. Throws SANDBOX_UNAVAILABLE when
 * bwrap does not work here, SANDBOX_SPEC_INVALID for a bad spec. Nesting that does not work is
 * not an error: the service still runs confined, and `nestedCommand` is undefined.
 */
export async function prepareServiceSandbox(spec: ServiceSandboxSpec): Promise<ServiceSandbox> {
  if (!isMainThread) {
    throw new KodoError("SANDBOX_FAILED", "a service sandbox must be started from the main thread (--die-with-parent follows the spawning thread)");
  }
  const notes: string[] = [];
  const mounts = planMounts(spec, notes);
  let cwd: string;
  try {
    cwd = fs.realpathSync(spec.cwd);
  } catch {
    throw invalid(`cwd does not exist: ${spec.cwd}`, {});
  }
  if (!mounts.some((mount) => mount.kind === "writable" && isInside(mount.path, cwd))) {
    throw invalid(`cwd must be inside a writable path: ${spec.cwd}`, { writable: spec.writable });
  }
  const probe = await probeBwrap();
  if (!probe.available || probe.path === undefined) {
    throw new KodoError("SANDBOX_UNAVAILABLE", probe.reason ?? "bubblewrap probe failed", {
      details: { hint: "install bubblewrap (apt-get install bubblewrap), or set KODO_AGENT_SANDBOX=auto or off" },
    });
  }
  const bwrapPath = probe.path;
  const readOnlyMasks = mounts.filter((mount) => mount.kind === "mask-dir").flatMap((mount) => ["--remount-ro", mount.path]);
  const layout = (nesting: boolean): string[] => [...baseFlags(true, { nesting }), ...mounts.flatMap(mountFlags), ...readOnlyMasks, "--chdir", cwd];

  const nestedFlags = nestedCommandFlags(spec.hiddenFromCommands ?? []);
  const nested = await probeNestedSandbox(bwrapPath, layout(true), nestedFlags);
  if (nested.available) return { bwrapPath, flags: layout(true), mounts, nestedCommand: [bwrapPath, ...nestedFlags, "--"], notes };
  notes.push(`commands cannot get a nested sandbox here (${nested.reason ?? "unknown"}): they share the service's sandbox`);
  // without nesting, the service's own sandbox keeps user namespaces disabled
  return { bwrapPath, flags: layout(false), mounts, nestedCommand: undefined, notes };
}
