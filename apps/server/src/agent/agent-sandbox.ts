/**
 * The agent sandbox: the OpenCode server under bubblewrap (sandbox/service-sandbox.ts), and each
 * command of its bash tool in a nested sandbox (sandbox/nested-sandbox.ts). What OpenCode itself
 * needs, found by running it confined (opencode-ai 1.18.33, see README.md here):
 * - writable: its XDG data, state and cache dirs and its work dir (the server's cwd);
 * - `$XDG_CONFIG_HOME/opencode` must exist, and so must its `.gitignore`: OpenCode creates both at
 *   start and on the first session (EROFS otherwise: the start or `POST /session` fails). With
 *   them present it only probes the dir for write access (EROFS) and carries on;
 * - it also tries to cache the project id in `<repo>/.git/opencode`; EROFS there is harmless.
 */
import fs from "node:fs";
import path from "node:path";
import type { AgentSandboxMode } from "../config.js";
import { KodoError } from "../lib/errors.js";
import { probeSandbox, type ServiceSandboxSpec } from "../sandbox/index.js";
import { stateDirs } from "./server-process.js";

/** What the caller adds to what OpenCode itself needs (see openCodeSandboxSpec). */
export interface AgentSandboxOptions {
  /** bound read-write, e.g. the worktrees root; must exist */
  writable: string[];
  readOnly?: string[];
  /** hidden, e.g. the kodo home (token, server.json, runs, logs) and the Postgres data dir */
  masked?: string[];
}

/** How the running server is confined (undefined on the server object: it is not). */
export interface AgentSandboxReport {
  /** each bash command runs in its own nested sandbox (false: only the server's sandbox, and the env-scrubbing shell) */
  nestedCommands: boolean;
  /** writable, read-only and masked paths, as bound */
  mounts: { kind: string; path: string }[];
  notes: string[];
}

const CONFIG_GITIGNORE = ["node_modules", "package.json", "package-lock.json", "bun.lock", ".gitignore", ""].join("\n");

/**
 * The server's mounts: its state dir masked (pidfile, logs), then its writable XDG dirs and work
 * dir, then read-only its config dir, the wrapper shell's dir and the API key file, so the agent
 * can neither loosen its own config nor swap the shell. The caller's paths come on top.
 */
export function openCodeSandboxSpec(stateDir: string, apiKeyFile: string, options: AgentSandboxOptions): ServiceSandboxSpec {
  const dirs = stateDirs(stateDir);
  return {
    writable: [dirs.data, dirs.state, dirs.cache, dirs.work, ...options.writable],
    readOnly: [dirs.config, path.join(stateDir, "bin"), apiKeyFile, ...(options.readOnly ?? [])],
    masked: [stateDir, ...(options.masked ?? [])],
    cwd: dirs.work,
    hiddenFromCommands: [stateDir],
  };
}

/** Creates the state dirs (bind mounts need them) and what OpenCode would otherwise write into its read-only config dir. */
export function prepareSandboxedStateDirs(stateDir: string): void {
  for (const dir of [...Object.values(stateDirs(stateDir)), path.join(stateDir, "bin")]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dir = path.join(stateDirs(stateDir).config, "opencode");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const gitignore = path.join(dir, ".gitignore");
  if (!fs.existsSync(gitignore)) fs.writeFileSync(gitignore, CONFIG_GITIGNORE, { mode: 0o600 });
}

/**
 * The sandbox to start the server with, by mode: `off` → none; `auto` → the options when
 * bubblewrap works here, otherwise none and a loud warning; `required` → the options, or
 * SANDBOX_UNAVAILABLE when bubblewrap does not work.
 */
export async function chooseAgentSandbox(
  mode: AgentSandboxMode,
  options: AgentSandboxOptions,
  log: (line: string) => void,
): Promise<AgentSandboxOptions | undefined> {
  if (mode === "off") {
    log("WARNING: the agent sandbox is off (KODO_AGENT_SANDBOX=off): OpenCode and the agent's commands run unconfined");
    return undefined;
  }
  const probe = await probeSandbox();
  if (probe.available) return options;
  const reason = probe.reason ?? "bubblewrap probe failed";
  if (mode === "required") {
    throw new KodoError("SANDBOX_UNAVAILABLE", `the agent sandbox is required but bubblewrap does not work here: ${reason}`, {
      details: { hint: "install bubblewrap (apt-get install bubblewrap), or set KODO_AGENT_SANDBOX=auto (sandbox when it works) or off" },
    });
  }
  log(`WARNING: bubblewrap does not work here (${reason}): the agent runs UNSANDBOXED (KODO_AGENT_SANDBOX=auto); install bubblewrap to confine it`);
  return undefined;
}

/** For logs and the demo: "sandboxed (…)" or "UNSANDBOXED". */
export function describeAgentSandbox(report: AgentSandboxReport | undefined): string {
  if (report === undefined) return "UNSANDBOXED";
  return report.nestedCommands
    ? "sandboxed (bubblewrap; each command in its own nested sandbox)"
    : "sandboxed (bubblewrap; commands share the server's sandbox: nesting does not work here)";
}
