/**
 * A sandbox inside the service sandbox: the OpenCode server runs in bubblewrap
 * (service-sandbox.ts), and the shell it runs the agent's commands with starts each command in a
 * second bwrap, nested in the first. Found out on this machine (bwrap 0.8.0, kernel 6.18, root),
 * checked by apps/server/test/agent/sandboxed-server.test.ts:
 *
 * - `--unshare-user`: the outer sandbox dropped every capability and bwrap is not setuid, so a new
 *   user namespace is the only way the nested one can set anything up. It is also what keeps the
 *   server's secrets away: the command lives in a *child* user namespace of the server's, and
 *   reading another process's environ, fds, memory, maps, cwd or root needs CAP_SYS_PTRACE in that
 *   process's namespace (the cross-namespace ptrace check), even for the same uid. Seen:
 *   `/proc/<server>/environ` → Permission denied; `ls -l /proc/<server>/fd` lists numbers only.
 * - `--disable-userns`: the command cannot make namespaces of its own. bwrap does it by writing
 *   user.max_user_namespaces=1 through the outer /proc, which is why the outer sandbox keeps
 *   /proc/sys/user writable (BaseFlagOptions.nesting).
 * - `--unshare-pid` + `--die-with-parent`: the command gets its own pid namespace whose init
 *   (bwrap's) exits when the command exits; the kernel then SIGKILLs whatever it left
 *   (`setsid … &`, `nohup … &`, double forks, `setsid env -i …`). The server's processes have no
 *   pid in that namespace, so `kill` cannot reach them. `--die-with-parent` ends it all when
 *   OpenCode kills the command (timeout, abort) or dies. Seen: a 20 s command still completes
 *   (OpenCode spawns from a thread that lives on).
 * - `--dev-bind / /`: exactly the outer sandbox's view (read-only root, writable worktrees, masked
 *   kodo home), devices included (a plain `--bind` would add nodev and break /dev/null).
 * - no `--proc /proc`: a fresh procfs cannot be mounted here ("Can't mount proc on /newroot/proc:
 *   Operation not permitted"). The kernel allows it in a nested user namespace only when a proc
 *   mount without locked over-mounts is visible, and the outer /proc has them (bwrap's own
 *   read-only covers of /proc/irq and /proc/bus, our /proc/sys). So /proc stays the server's:
 *   `ps` lists the server's processes (cmdline and status are readable, secrets are not) with
 *   their outer pids, and `pkill`/`kill` by those numbers cannot hit them.
 * - no `--new-session`: there is no terminal in the outer sandbox anyway, and OpenCode ends a
 *   command by signalling its process group, which must include bwrap.
 * - `--cap-drop ALL`: bwrap's default for an unprivileged user; spelled out.
 * - hidden paths (the server's state dir): the command does not need OpenCode's session store,
 *   logs, the model API key file or the wrapper itself; a hidden directory is an empty read-only
 *   tmpfs (`--remount-ro`), so nothing written there looks like it worked.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { mountFlags } from "./bwrap-args.js";
import { DEFAULT_PATH } from "./types.js";

const PROBE_TIMEOUT_MS = 10_000;

/** bwrap's flags for one command nested in the service sandbox (put `--`, the shell and its arguments after them). */
export function nestedCommandFlags(hidden: readonly string[]): string[] {
  const masks = hidden.flatMap((target) => {
    let isDirectory: boolean;
    try {
      isDirectory = fs.statSync(target).isDirectory();
    } catch {
      return []; // nothing there to hide
    }
    return isDirectory ? [...mountFlags({ kind: "mask-dir", path: target }), "--remount-ro", target] : mountFlags({ kind: "mask-file", path: target });
  });
  return [
    "--unshare-user", "--disable-userns", "--cap-drop", "ALL",
    "--unshare-pid", "--die-with-parent",
    "--dev-bind", "/", "/",
    ...masks,
  ];
}

export interface NestedProbe {
  available: boolean;
  reason?: string;
}

/**
 * Does a nested sandbox start inside a service sandbox with these outer flags? Runs
 * `bwrap <outer> -- bwrap <nested> -- true` once. Kernels or policies that refuse nested user
 * namespaces (a lowered user.max_user_namespaces, an LSM) fail here, not in the agent's first command.
 */
export function probeNestedSandbox(bwrapPath: string, outerFlags: readonly string[], nestedFlags: readonly string[]): Promise<NestedProbe> {
  const args = [...outerFlags, "--", bwrapPath, ...nestedFlags, "--", "true"];
  return new Promise((resolve) => {
    execFile(bwrapPath, args, { env: { PATH: DEFAULT_PATH }, timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve({ available: true });
        return;
      }
      const why = error.killed ? `timed out after ${PROBE_TIMEOUT_MS} ms` : `exit ${String(error.code ?? error.signal)}`;
      resolve({ available: false, reason: `${why}${stderr.trim() === "" ? "" : `: ${stderr.trim().slice(0, 500)}`}` });
    });
  });
}
