/** The machine: Node, git, bubblewrap, free disk space of the home's filesystem. */
import { statfs } from "node:fs/promises";
import path from "node:path";
import { probeSandbox } from "../../sandbox/probe.js";
import type { DoctorContext } from "../context.js";
import { parseVersion, runCommand, versionAtLeast } from "../exec.js";
import { fail, pass, warn, type Finding } from "../types.js";

/** package.json `engines.node` */
export const MIN_NODE = [20, 19, 0] as const;
/**
 * The newest git feature kodo uses: `git worktree list --porcelain -z` (workspace/worktree-list.ts),
 * added in git 2.36 (RelNotes 2.36.0). Others: `rev-parse --path-format=absolute` (2.31),
 * `add --pathspec-from-file --pathspec-file-nul` (2.26), `--end-of-options` (2.24).
 */
export const MIN_GIT = [2, 36, 0] as const;
export const DISK_WARN_BYTES = 2 * 1024 ** 3;
export const DISK_FAIL_BYTES = 500 * 1024 ** 2;

export async function checkNode(): Promise<Finding> {
  const version = process.versions.node;
  const parsed = parseVersion(version) ?? [0, 0, 0];
  if (versionAtLeast(parsed, MIN_NODE)) return pass(`Node ${version} (kodo needs ≥ ${MIN_NODE.join(".")})`);
  return fail(`Node ${version} is too old: kodo needs ≥ ${MIN_NODE.join(".")}`, `install Node ${MIN_NODE.slice(0, 2).join(".")} or newer and run kodo with it`);
}

export async function checkGit(context: DoctorContext, signal: AbortSignal): Promise<Finding> {
  const result = await runCommand("git", ["--version"], { timeoutMs: 5_000, signal, env: { PATH: context.env["PATH"] ?? process.env["PATH"] ?? "/usr/bin:/bin", LC_ALL: "C" } });
  if (!result.ok) return fail(`git --version failed (${result.error ?? "?"})`, "install git ≥ 2.36 and put it on the PATH");
  const version = parseVersion(result.stdout);
  const shown = result.stdout.trim();
  if (version === undefined) return warn(`cannot read git's version from ${JSON.stringify(shown)}`, "check that `git` on the PATH is git");
  if (!versionAtLeast(version, MIN_GIT)) {
    return fail(`${shown}: kodo needs git ≥ ${MIN_GIT.slice(0, 2).join(".")} (git worktree list --porcelain -z)`, `upgrade git to ${MIN_GIT.slice(0, 2).join(".")} or newer`);
  }
  return pass(`${shown} (kodo needs ≥ ${MIN_GIT.slice(0, 2).join(".")})`);
}

/** The deepest existing directory on the way to `target`: the home may not exist yet. */
async function existingAncestor(target: string): Promise<string> {
  let current = path.resolve(target);
  for (;;) {
    try {
      await statfs(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

export async function checkDisk(context: DoctorContext): Promise<Finding> {
  const where = await existingAncestor(context.config.home.root);
  const stats = await statfs(where);
  const available = stats.bavail * stats.bsize;
  const details = { path: where, availableBytes: available };
  const summary = `${gib(available)} free for unprivileged use on the filesystem of ${where}`;
  const fix = "free space there (old worktrees: kodo's worktrees/ and runs/ under the home; logs/), or move KODO_HOME to a bigger disk";
  if (available < DISK_FAIL_BYTES) return fail(`${summary} (< ${gib(DISK_FAIL_BYTES)}: Postgres and git will fail)`, fix, details);
  if (available < DISK_WARN_BYTES) return warn(`${summary} (< ${gib(DISK_WARN_BYTES)})`, fix, details);
  return pass(summary, details);
}

export async function checkSandbox(context: DoctorContext): Promise<Finding> {
  const probe = await probeSandbox();
  const mode = context.config.agentSandbox;
  if (probe.available) {
    return pass(`bubblewrap ${probe.version ?? "?"} works (a trial sandbox started: no network, PID namespace, read-only root)`, { version: probe.version, agentSandbox: mode });
  }
  const summary = `bubblewrap does not work here: ${probe.reason ?? "unknown reason"}`;
  const fix =
    "install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0)";
  if (mode === "required") {
    return fail(`${summary}; KODO_AGENT_SANDBOX=required (the default), so kodo serve will not start a worker`, `${fix}, or set KODO_AGENT_SANDBOX=auto to run agents unconfined`, { agentSandbox: mode });
  }
  return warn(`${summary}; agents run unconfined (KODO_AGENT_SANDBOX=${mode})`, fix, { agentSandbox: mode });
}
