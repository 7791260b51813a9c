/**
 * Does bubblewrap work here? Runs `bwrap <the launcher's flags, network off> true` once per bwrap
 * path and caches the answer: being installed is not enough (user namespaces may be disabled, a
 * seccomp profile may refuse them, an old bwrap may lack a flag).
 */
import { execFile } from "node:child_process";
import { baseFlags } from "./bwrap-args.js";
import { locateBwrap, BWRAP_ENV } from "./bwrap-path.js";
import { DEFAULT_PATH, type SandboxProbe } from "./types.js";

const PROBE_TIMEOUT_MS = 10_000;
const cache = new Map<string, Promise<SandboxProbe & { path?: string }>>();

interface QuickRun {
  ok: boolean;
  stdout: string;
  detail: string;
}

function runQuick(file: string, args: string[]): Promise<QuickRun> {
  return new Promise((resolve) => {
    execFile(file, args, { env: {}, timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true, stdout, detail: "" });
        return;
      }
      const why = error.killed ? `timed out after ${PROBE_TIMEOUT_MS} ms` : `exit ${String(error.code ?? error.signal)}`;
      resolve({ ok: false, stdout, detail: `${why}${stderr.trim() === "" ? "" : `: ${stderr.trim().slice(0, 500)}`}` });
    });
  });
}

async function probe(bwrapPath: string): Promise<SandboxProbe & { path?: string }> {
  const versionRun = await runQuick(bwrapPath, ["--version"]);
  if (!versionRun.ok) return { available: false, reason: `${bwrapPath} --version failed (${versionRun.detail})` };
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(versionRun.stdout)?.[1];
  const args = [...baseFlags(false), "--chdir", "/", "--clearenv", "--setenv", "PATH", DEFAULT_PATH, "--", "true"];
  const trial = await runQuick(bwrapPath, args);
  if (!trial.ok) {
    return { available: false, ...(version === undefined ? {} : { version }), reason: `bwrap could not start a sandbox (${trial.detail})` };
  }
  return { available: true, ...(version === undefined ? {} : { version }), path: bwrapPath };
}

/** The probe plus the bwrap path to use (internal: the public probe hides the path). */
export async function probeBwrap(): Promise<SandboxProbe & { path?: string }> {
  const location = locateBwrap();
  if (location.resolved === undefined) {
    const how = location.requested === "bwrap" ? "bwrap is not on the PATH (install bubblewrap)" : `${BWRAP_ENV}=${location.requested} is not an executable file`;
    return { available: false, reason: how };
  }
  let answer = cache.get(location.resolved);
  if (answer === undefined) {
    answer = probe(location.resolved);
    cache.set(location.resolved, answer);
  }
  return answer;
}

export async function probeSandbox(): Promise<SandboxProbe> {
  const { available, version, reason } = await probeBwrap();
  return { available, ...(version === undefined ? {} : { version }), ...(reason === undefined ? {} : { reason }) };
}
