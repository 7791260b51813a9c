/** OpenCode: the binary kodo would start (and its version), and the server of this home. */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createTimedFetch } from "../../agent/http.js";
import { resolveOpenCodeBinary } from "../../agent/opencode-config.js";
import { isOurServer, ownerAlive, pidfilePath, readPidfile } from "../../agent/pidfile.js";
import { readEnviron } from "../../agent/process-table.js";
import { describeError } from "../../lib/errors.js";
import type { DoctorContext } from "../context.js";
import { runCommand, tcpAnswers } from "../exec.js";
import { fail, pass, warn, type Finding } from "../types.js";

const VERSION_TIMEOUT_MS = 15_000;
const HEALTH_TIMEOUTS = { connectMs: 3_000, requestMs: 5_000 };

/** The installed @opencode-ai/sdk's version: what kodo's client code speaks (pinned to the server's). */
export function sdkVersion(): string | undefined {
  const require = createRequire(import.meta.url);
  // its package.json is not exported: look for it along the module search path
  for (const directory of require.resolve.paths("@opencode-ai/sdk") ?? []) {
    const file = path.join(directory, "@opencode-ai", "sdk", "package.json");
    if (!existsSync(file)) continue;
    try {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
      return typeof manifest.version === "string" ? manifest.version : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export async function checkOpenCodeBinary(context: DoctorContext, signal: AbortSignal): Promise<Finding> {
  let binary: string;
  try {
    binary = resolveOpenCodeBinary();
  } catch (error) {
    return fail(`no OpenCode binary: ${describeError(error)}`, "reinstall kodo's dependencies (npm ci): the opencode-ai package ships the binary");
  }
  const pinned = sdkVersion();
  // `opencode --version` creates its XDG directories: give it throwaway ones, never the user's or the home's
  const scratch = await mkdtemp(path.join(os.tmpdir(), "kodo-doctor-opencode-"));
  try {
    const env = {
      PATH: context.env["PATH"] ?? process.env["PATH"] ?? "/usr/bin:/bin",
      HOME: scratch,
      XDG_DATA_HOME: path.join(scratch, "data"),
      XDG_CONFIG_HOME: path.join(scratch, "config"),
      XDG_STATE_HOME: path.join(scratch, "state"),
      XDG_CACHE_HOME: path.join(scratch, "cache"),
    };
    const result = await runCommand(binary, ["--version"], { timeoutMs: VERSION_TIMEOUT_MS, signal, env });
    const version = result.stdout.trim().split("\n").pop()?.trim() ?? "";
    const details = { binary, version, sdk: pinned };
    if (!result.ok || version === "") return fail(`${binary} --version failed (${result.error ?? "no output"})`, "reinstall kodo's dependencies (npm ci)", details);
    if (pinned === undefined) return warn(`OpenCode ${version} at ${binary}; the @opencode-ai/sdk version could not be read`, "reinstall kodo's dependencies (npm ci)", details);
    if (version !== pinned) {
      return fail(
        `OpenCode ${version} at ${binary}, but kodo's client is @opencode-ai/sdk ${pinned}: the pair is pinned to one version`,
        `install matching versions (opencode-ai@${pinned} and @opencode-ai/sdk@${pinned}) and re-verify docs/opencode-headless.md`,
        details,
      );
    }
    return pass(`OpenCode ${version} (matches @opencode-ai/sdk ${pinned})`, details);
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * The OpenCode server of this home, from its pidfile. Healthy = our process is alive and answers
 * GET /global/health, asked with the password read from the server's own environment (readable by
 * its user or root). When that environment cannot be read, only the process and the port are checked.
 */
export async function checkOpenCodeServer(context: DoctorContext): Promise<Finding> {
  const stateDir = context.config.home.opencode;
  const file = pidfilePath(stateDir);
  const pidfile = readPidfile(stateDir);
  const worker = await context.liveWorker();
  if (pidfile === undefined) {
    if (worker === undefined) return pass(`no OpenCode server, and none expected: no kodo worker runs for this home`);
    return fail(`the kodo worker (pid ${worker.pid}) runs, but no OpenCode server is recorded in ${file}`, "see <home>/logs/opencode.log; restart kodo serve");
  }
  const details: Record<string, unknown> = { pid: pidfile.pid, url: pidfile.url, ownerPid: pidfile.ownerPid, startedAt: pidfile.startedAt };
  const owner = ownerAlive(pidfile);
  if (!isOurServer(pidfile.pid, stateDir)) {
    if (owner) {
      return fail(`the OpenCode server (pid ${pidfile.pid}) of the running kodo ${pidfile.ownerPid} is gone`, "kodo restarts it with backoff; if it stays down see <home>/logs/opencode.log and restart kodo serve", details);
    }
    return warn(`stale ${file}: its server (pid ${pidfile.pid}) and its kodo (pid ${pidfile.ownerPid}) are gone`, "nothing to do: the next kodo serve removes it", details);
  }
  if (!owner) {
    return warn(
      `a leftover OpenCode server (pid ${pidfile.pid}, ${pidfile.url}) of a kodo that is gone (pid ${pidfile.ownerPid}) still runs`,
      `the next kodo serve stops it; or stop it now: kill -TERM -- -${pidfile.pgid}`,
      details,
    );
  }
  const password = readEnviron(pidfile.pid)?.get("OPENCODE_SERVER_PASSWORD");
  if (password === undefined) {
    let port = 0;
    try {
      port = Number(new URL(pidfile.url).port);
    } catch {
      port = 0;
    }
    const answers = port > 0 && (await tcpAnswers("127.0.0.1", port, HEALTH_TIMEOUTS.connectMs));
    details["method"] = "process alive + TCP connect (the server's password was not readable, so /global/health was not asked)";
    if (answers) return pass(`OpenCode server pid ${pidfile.pid} is alive and ${pidfile.url} accepts connections (health not asked: its password is not readable by this user)`, details);
    return fail(`OpenCode server pid ${pidfile.pid} is alive but ${pidfile.url} does not accept connections`, "see <home>/logs/opencode.log; restart kodo serve", details);
  }
  details["method"] = "GET /global/health with the password from the server's environment";
  const http = createTimedFetch(password, HEALTH_TIMEOUTS);
  try {
    const response = await http.fetch(`${pidfile.url}/global/health`);
    const body = (await response.json().catch(() => undefined)) as { healthy?: unknown; version?: unknown } | undefined;
    details["health"] = body;
    if (!response.ok || body?.healthy !== true) {
      return fail(`OpenCode at ${pidfile.url} answered /global/health with HTTP ${response.status} ${JSON.stringify(body ?? null)}`, "see <home>/logs/opencode.log; restart kodo serve", details);
    }
    const version = typeof body.version === "string" ? body.version : "?";
    const pinned = sdkVersion();
    if (pinned !== undefined && version !== pinned) {
      return warn(`OpenCode ${version} at ${pidfile.url} is healthy but is not the pinned ${pinned}`, "restart kodo serve so it starts the installed OpenCode", details);
    }
    const kodo = await context.kodo();
    const health = kodo.state === "alive" ? kodo.health : undefined;
    return pass(`OpenCode ${version} at ${pidfile.url} (pid ${pidfile.pid}) is healthy${health === undefined ? "" : `; restarts since kodo started: ${health.opencode.restarts}`}`, details);
  } catch (error) {
    return fail(`OpenCode at ${pidfile.url} did not answer /global/health: ${describeError(error)}`, "see <home>/logs/opencode.log; restart kodo serve (it stops the server and starts a new one)", details);
  } finally {
    await http.close();
  }
}
