/**
 * The bubblewrap command line for a plan. Each group of flags closes a hole seen on this kind of
 * machine (docs/security-notes.md):
 * - root trap: as root, bwrap without a user namespace keeps every capability and could remount
 *   `/` read-write, hence `--unshare-user --uid 1000 --gid 1000 --cap-drop ALL --disable-userns`
 *   (a sandbox that starts nested ones keeps user namespaces: BaseFlagOptions.nesting);
 * - the sandbox uid maps to kodo's own uid, which is host root when kodo runs as root: root-owned
 *   sysctls stay writable by file mode alone (seen: `vm.swappiness` changed on the host), hence
 *   `/proc/sys` and `/proc/sysrq-trigger` bound read-only over the sandbox's own /proc;
 * - process cleanup: `--unshare-pid` (the namespace's init ends every member when it exits) with
 *   `--die-with-parent` (bwrap and init die with the spawning thread); `--new-session` (no
 *   terminal to push input into);
 * - socket trap: path sockets in /tmp or /run stay connectable on a read-only mount, even with
 *   `--unshare-net`, hence private tmpfs on /tmp and /run;
 * - `--json-status-fd 3` reports the child pid and pid-namespace inode that cleanup relies on.
 */
import fs from "node:fs";
import type { PlannedMount, SandboxPlan } from "./sandbox-plan.js";

/** fd (in bwrap) of the pipe bwrap writes its JSON status lines to */
export const STATUS_FD = 3;
export const SANDBOX_UID = "1000";
export const SANDBOX_GID = "1000";

const USER_FLAGS = ["--unshare-user", "--uid", SANDBOX_UID, "--gid", SANDBOX_GID, "--cap-drop", "ALL"];
const PROCESS_FLAGS = ["--unshare-pid", "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-uts"];

export interface BaseFlagOptions {
  /**
   * A sandbox that starts sandboxes of its own (the OpenCode server, whose shell runs each command
   * in a nested bwrap, see nested-sandbox.ts). Then user namespaces stay allowed inside (no
   * `--disable-userns`: the nested bwrap needs one) and `/proc/sys/user` stays writable, so the
   * nested bwrap can `--disable-userns` for the command. Those limits are per user namespace and
   * need CAP_SYS_RESOURCE in the writer's own namespace: nobody in here can raise the host's.
   */
  nesting?: boolean;
}

function procHardening(nesting: boolean): string[] {
  const flags = ["--ro-bind", "/proc/sys", "/proc/sys"];
  if (nesting && fs.existsSync("/proc/sys/user")) flags.push("--bind", "/proc/sys/user", "/proc/sys/user");
  // absent on kernels built without magic SysRq (bwrap cannot bind over a missing file)
  if (fs.existsSync("/proc/sysrq-trigger")) flags.push("--ro-bind", "/dev/null", "/proc/sysrq-trigger");
  return flags;
}

export function mountFlags(mount: PlannedMount): string[] {
  switch (mount.kind) {
    case "writable":
      return ["--bind", mount.path, mount.path];
    case "read-only":
      return ["--ro-bind", mount.path, mount.path];
    case "mask-file":
      return ["--ro-bind", "/dev/null", mount.path];
    case "mask-dir":
      // an empty tmpfs (left writable: a deeper bind, e.g. a worktree under kodo's home, needs its mount point created)
      return ["--tmpfs", mount.path];
  }
}

/** The part of the command line that does not depend on the command (also used by the probe). */
export function baseFlags(network: boolean, options: BaseFlagOptions = {}): string[] {
  const nesting = options.nesting === true;
  return [
    ...USER_FLAGS,
    ...(nesting ? [] : ["--disable-userns"]),
    ...PROCESS_FLAGS,
    ...(network ? [] : ["--unshare-net"]),
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    ...procHardening(nesting),
    "--tmpfs", "/tmp",
    "--tmpfs", "/run",
  ];
}

export function buildBwrapArgs(plan: SandboxPlan): string[] {
  const env = Object.entries(plan.env).flatMap(([name, value]) => ["--setenv", name, value]);
  return [
    ...baseFlags(plan.network),
    ...plan.mounts.flatMap(mountFlags),
    "--chdir", plan.cwd,
    "--clearenv", ...env,
    "--json-status-fd", String(STATUS_FD),
    "--", ...plan.command,
  ];
}
