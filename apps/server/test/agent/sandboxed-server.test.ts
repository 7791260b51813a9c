/**
 * The OpenCode server in the agent sandbox, with the real binary, real bubblewrap and the scripted
 * model: the agent works in its worktree and nowhere else, cannot read kodo's secrets or the
 * server's password, and nothing it starts outlives its command, the server, or a SIGKILLed kodo.
 */
import { createOpencodeClient, type Part } from "@opencode-ai/sdk/v2";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chooseAgentSandbox } from "../../src/agent/agent-sandbox.js";
import { loadConfig } from "../../src/config.js";
import { TIMEOUT_HEADER, createTimedFetch } from "../../src/agent/http.js";
import { buildPermissions, type PermissionRule } from "../../src/agent/permissions.js";
import { isOurServer, readPidfile } from "../../src/agent/pidfile.js";
import { isAlive, listPids, readCmdline } from "../../src/agent/process-table.js";
import { startOpenCodeServer, type OpenCodeServer } from "../../src/agent/server-supervisor.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { leftoverProcesses, markedProcesses, removeTempDirs, tempDir, until } from "./helpers.js";
import { buildOwnerProgram, startOwner } from "./owner-child.js";

const MARK = randomBytes(4).toString("hex");
/** unique sleep durations: their command lines find the agent's background processes on the host */
const SLEEPS = { setsid: "611.7171", nohup: "612.7171", doubleFork: "613.7171", cleanEnv: "614.7171", foreground: "615.7171", timedOut: "616.7171" } as const;
const BACKGROUND = [
  `setsid sleep ${SLEEPS.setsid} >/dev/null 2>&1 </dev/null &`,
  `nohup sh -c 'sleep ${SLEEPS.nohup}' >/dev/null 2>&1 </dev/null &`,
  `(sleep ${SLEEPS.doubleFork} >/dev/null 2>&1 </dev/null &);`,
  `setsid env -i /bin/sleep ${SLEEPS.cleanEnv} >/dev/null 2>&1 </dev/null &`,
].join(" ");
const BACKGROUND_SLEEPS = [SLEEPS.setsid, SLEEPS.nohup, SLEEPS.doubleFork, SLEEPS.cleanEnv];

/** Host processes whose command line ends with one of these sleeps. */
function sleepers(durations: readonly string[]): { pid: number; cmdline: string }[] {
  return listPids()
    .filter((pid) => isAlive(pid))
    .map((pid) => ({ pid, cmdline: (readCmdline(pid) ?? []).join(" ") }))
    .filter(({ cmdline }) => durations.some((duration) => cmdline.endsWith(`sleep ${duration}`)));
}

/** Every one of these sleeps is running (some appear twice: `nohup sh -c 'sleep …'`). */
function allRunning(durations: readonly string[]): true | undefined {
  const running = sleepers(durations).map(({ cmdline }) => cmdline);
  return durations.every((duration) => running.some((cmdline) => cmdline.endsWith(`sleep ${duration}`))) ? true : undefined;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Outside /tmp (the sandbox's /tmp is private): the user's checkout stays visible, read-only. */
const outside = fs.mkdtempSync("/var/tmp/kodo-sandboxed-");
const repo = path.join(outside, "repo");
const home = tempDir("home");
const stateDir = path.join(home, "opencode");
const worktreesRoot = path.join(home, "worktrees");
const worktree = path.join(worktreesRoot, "task-1");
/** a checkout inside kodo's (masked) home, like the e2e tests' and the demo's: its repository is hidden from OpenCode */
const hiddenRepo = path.join(home, "repo-hidden");
const hiddenWorktree = path.join(worktreesRoot, "task-hidden");
const tokenFile = path.join(home, "token");
const token = `kodo-token-${randomBytes(12).toString("hex")}`;
const configFile = path.join(stateDir, "xdg", "config", "opencode", "opencode.json");
const shellFile = path.join(stateDir, "bin", "bash");
const apiKeyFile = path.join(stateDir, "model-api-key");
const API_KEY = `model-key-${MARK}`;

function step(name: string, results: number, reply: Record<string, unknown>): Record<string, unknown> {
  return { name, when: { user: name.split(":")[0], toolResults: results }, reply };
}
const bash = (command: string): Record<string, unknown> => ({ toolCalls: [{ name: "bash", arguments: { command, description: "probe" } }] });
const write = (filePath: string): Record<string, unknown> => ({ toolCalls: [{ name: "write", arguments: { filePath, content: `${MARK}\n` } }] });
/** `try NAME COMMAND…`: one line per attempt, ALLOWED or refused, whatever the command prints */
const TRY = `t() { n=$1; shift; if ( "$@" ) >/dev/null 2>&1; then echo "ALLOWED $n"; else echo "refused $n"; fi; };`;

const script = parseScript({
  version: 1,
  rules: [
    { name: "title", when: { titleRequest: true }, reply: { text: "A title" } },
    step("WORK:write", 0, write("{{directory}}/hello.txt")),
    step("WORK:bash", 1, bash("cat hello.txt && echo from-bash > bash.txt && echo bash-ok")),
    step("WORK:done", 2, { text: "worked" }),
    step("BREAKOUT:bash", 0, bash([
      TRY,
      `t etc sh -c 'echo x > /etc/kodo-${MARK}';`,
      `t checkout sh -c 'echo x > ${repo}/evil-${MARK}';`,
      `t gitdir sh -c 'echo x >> ${repo}/.git/config';`,
      `t home sh -c 'echo x > ${home}/evil-${MARK}';`,
      `t config sh -c 'echo {} > ${configFile}';`,
      `t shell sh -c 'echo x > ${shellFile}';`,
      `t token cat ${tokenFile};`,
      `t apikey cat ${apiKeyFile};`,
      `t worktree sh -c 'echo x > inside-${MARK}';`,
      `cat ${tokenFile} ${apiKeyFile} 2>&1; echo probed`,
    ].join(" "))),
    step("BREAKOUT:write-checkout", 1, write(`${repo}/evil-write-${MARK}`)),
    step("BREAKOUT:write-etc", 2, write(`/etc/kodo-write-${MARK}`)),
    step("BREAKOUT:write-config", 3, write(configFile)),
    step("BREAKOUT:write-home", 4, write(`${home}/evil-write-${MARK}`)),
    step("BREAKOUT:done", 5, { text: "tried" }),
    step("ENVIRON:bash", 0, bash(`for f in /proc/[0-9]*/environ; do echo "== $f"; tr '\\0' '\\n' < "$f" 2>&1; done; echo "== own"; env; echo "== cmdlines"; cat /proc/[0-9]*/cmdline | tr '\\0' ' '`)),
    step("ENVIRON:done", 1, { text: "looked" }),
    step("DAEMONS:bash", 0, bash(`${BACKGROUND} sleep 1; echo started`)),
    step("DAEMONS:check", 1, bash(`pgrep -f 'sleep 61[1-4][.]7171' || echo none-left`)),
    step("DAEMONS:done", 2, { text: "started" }),
    step("TIMEOUT:bash", 0, {
      toolCalls: [{ name: "bash", arguments: { command: `${BACKGROUND} sleep ${SLEEPS.timedOut}`, timeout: 3000, description: "runs too long" } }],
    }),
    step("TIMEOUT:done", 1, { text: "timed out" }),
    step("RUNNING:bash", 0, bash(`${BACKGROUND} sleep ${SLEEPS.foreground}`)),
    step("RUNNING:hang", 1, { hang: true }),
  ],
  default: { text: "ok" },
});

/** The build agent's rules, except that paths outside the project are allowed: the sandbox, not a rule, must stop them. */
const permission: PermissionRule[] = [...buildPermissions(), { permission: "external_directory", pattern: "*", action: "allow" }];

let model: ScriptedModelServer;
let server: OpenCodeServer;

interface ToolRun {
  tool: string;
  status: string;
  output: string;
}

function toolRuns(parts: Part[]): ToolRun[] {
  return parts.flatMap((part): ToolRun[] => {
    if (part.type !== "tool") return [];
    const { state } = part;
    const output = state.status === "completed" ? state.output : state.status === "error" ? state.error : "";
    return [{ tool: part.tool, status: state.status, output }];
  });
}

/** One turn in a new session of the worktree; returns its tool runs as OpenCode recorded them (what the model was sent). */
async function turn(text: string): Promise<ToolRun[]> {
  const client = server.client();
  server.noteDirectory(worktree);
  const session = await client.session.create({ directory: worktree, title: text, permission });
  const sessionID = session.data?.id ?? "";
  expect(sessionID).toMatch(/^ses_/);
  const reply = await client.session.prompt(
    { sessionID, directory: worktree, agent: "build", parts: [{ type: "text", text }] },
    { headers: { [TIMEOUT_HEADER]: "180000" } },
  );
  expect(reply.error).toBeUndefined();
  const messages = await client.session.messages({ sessionID, directory: worktree }, { headers: { [TIMEOUT_HEADER]: "30000" } });
  return (messages.data ?? []).flatMap((message) => toolRuns(message.parts));
}

beforeAll(async () => {
  fs.mkdirSync(repo);
  const git = (cwd: string, ...args: string[]): void => {
    execFileSync("git", ["-c", "user.name=kodo", "-c", "user.email=kodo@example.invalid", ...args], { cwd, stdio: "ignore" });
  };
  git(repo, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(repo, "README.md"), "# the user's checkout\n");
  git(repo, "add", "README.md");
  git(repo, "commit", "-q", "-m", "init");
  fs.mkdirSync(worktreesRoot, { recursive: true });
  git(repo, "worktree", "add", "-q", "-b", "task-1", worktree);
  fs.mkdirSync(hiddenRepo);
  git(hiddenRepo, "init", "-q", "-b", "main");
  fs.writeFileSync(path.join(hiddenRepo, "README.md"), "# a checkout in kodo's home\n");
  git(hiddenRepo, "add", "README.md");
  git(hiddenRepo, "commit", "-q", "-m", "init");
  git(hiddenRepo, "worktree", "add", "-q", "-b", "task-hidden", hiddenWorktree);
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });

  model = await startScriptedModelServer({ script });
  server = await startOpenCodeServer({
    stateDir,
    model: { baseUrl: model.url, apiKey: API_KEY, model: "scripted-1" },
    logFile: path.join(home, "logs", "opencode.log"),
    sandbox: { writable: [worktreesRoot], masked: [home] },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await model?.close();
  const left = [...sleepers(Object.values(SLEEPS)), ...markedProcesses(stateDir)];
  killAll(left.map(({ pid }) => pid));
  const leftovers = leftoverProcesses();
  removeTempDirs();
  fs.rmSync(outside, { recursive: true, force: true });
  expect(left).toEqual([]);
  expect(leftovers).toEqual([]);
});

describe("the agent sandbox", () => {
  it("runs OpenCode confined: ready, healthy, password-protected, bwrap's pid in the pidfile", async () => {
    expect(server.sandboxed).toBe(true);
    expect(server.sandbox?.nestedCommands).toBe(true);
    expect(server.sandbox?.notes).toEqual([]);
    const health = await server.client().global.health();
    expect(health.data).toMatchObject({ healthy: true });
    const anonymous = await fetch(`${server.url}/global/health`, { signal: AbortSignal.timeout(5_000) });
    expect(anonymous.status).toBe(401);

    const cmdline = readCmdline(server.pid) ?? [];
    expect(path.basename(cmdline[0] ?? "")).toBe("bwrap");
    expect(cmdline.slice(cmdline.indexOf("--") + 1, cmdline.indexOf("--") + 3)).toEqual([expect.stringMatching(/opencode/), "serve"]);
    // the environment travels as bwrap's own, not on its command line (readable by every user)
    expect(cmdline.join(" ")).not.toContain(server.password);
    expect(readPidfile(stateDir)).toMatchObject({ pid: server.pid, pgid: server.pid, url: server.url });
    expect(isOurServer(server.pid, stateDir)).toBe(true);
  });

  it("knows a worktree as a git project only when the sandbox shows its repository (read-only)", async () => {
    const client = server.client();
    const visible = await client.session.create({ directory: worktree, title: "visible", permission });
    const rootCommit = execFileSync("git", ["rev-list", "--max-parents=0", "HEAD"], { cwd: repo, encoding: "utf8" }).trim();
    expect(visible.data?.projectID).toBe(rootCommit);
    // the worktree's .git points into a repository under the masked home: OpenCode falls back to
    // its "global" project (worktree "/"), and its permission patterns become relative to "/"
    const hidden = await client.session.create({ directory: hiddenWorktree, title: "hidden", permission });
    expect(hidden.data?.projectID).toBe("global");
  });

  it("lets the agent write in its worktree, with the write tool and with bash", async () => {
    const runs = await turn("WORK");
    expect(runs.map((run) => `${run.tool} ${run.status}`)).toEqual(["write completed", "bash completed"]);
    expect(runs[1]?.output).toContain(MARK);
    expect(runs[1]?.output).toContain("bash-ok");
    expect(fs.readFileSync(path.join(worktree, "hello.txt"), "utf8")).toBe(`${MARK}\n`);
    expect(fs.readFileSync(path.join(worktree, "bash.txt"), "utf8")).toBe("from-bash\n");
  });

  it("refuses writes outside the worktree and hides kodo's token and the API key", async () => {
    const configBefore = fs.existsSync(configFile) ? fs.readFileSync(configFile, "utf8") : undefined;
    const shellBefore = fs.readFileSync(shellFile, "utf8");
    const gitConfigBefore = fs.readFileSync(path.join(repo, ".git", "config"), "utf8");
    const runs = await turn("BREAKOUT");
    console.log(`[sandbox] bash attempts:\n${runs[0]?.output}`);
    expect(runs.map((run) => run.tool)).toEqual(["bash", "write", "write", "write", "write"]);
    const lines = (runs[0]?.output ?? "").split("\n");
    for (const name of ["etc", "checkout", "gitdir", "home", "config", "shell", "token", "apikey"]) expect(lines).toContain(`refused ${name}`);
    expect(lines).toContain("ALLOWED worktree");
    // the write tool runs in the server process itself: the sandbox stops it there too
    // (OpenCode reports "Unknown: FileSystem.writeFile (<path>)" for the EROFS)
    for (const run of runs.slice(1)) expect(run.status).toBe("error");
    const everything = runs.map((run) => run.output).join("\n");
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(API_KEY);

    expect(fs.existsSync(`/etc/kodo-${MARK}`)).toBe(false);
    expect(fs.existsSync(`/etc/kodo-write-${MARK}`)).toBe(false);
    expect(fs.readdirSync(repo).filter((name) => name.includes(MARK))).toEqual([]);
    expect(fs.readFileSync(path.join(repo, ".git", "config"), "utf8")).toBe(gitConfigBefore);
    expect(fs.readdirSync(home).filter((name) => name.includes(MARK))).toEqual([]);
    expect(fs.existsSync(configFile) ? fs.readFileSync(configFile, "utf8") : undefined).toBe(configBefore);
    expect(fs.readFileSync(shellFile, "utf8")).toBe(shellBefore);
    expect(fs.readFileSync(path.join(worktree, `inside-${MARK}`), "utf8")).toBe("x\n");
    expect(model.stats().log.map((entry) => entry.lastToolResult ?? "").join("\n")).not.toContain(token);
  });

  it("cannot read the server's password from any /proc/*/environ", async () => {
    const runs = await turn("ENVIRON");
    const output = runs[0]?.output ?? "";
    expect(runs[0]?.status).toBe("completed");
    expect(output).toContain("== own");
    // it did try the server's processes: their environ is refused across the user namespaces
    expect(output).toMatch(/environ: Permission denied/);
    expect(output).toContain("opencode"); // their command lines are visible …
    expect(output).not.toContain(server.password); // … their secrets are not
    expect(output).not.toContain("OPENCODE_SERVER_PASSWORD");
    expect(model.stats().log.map((entry) => entry.lastToolResult ?? "").join("\n")).not.toContain(server.password);
  });

  it("ends what a command started in the background once the command ended", async () => {
    const runs = await turn("DAEMONS");
    expect(runs.map((run) => `${run.tool} ${run.status}`)).toEqual(["bash completed", "bash completed"]);
    expect(runs[0]?.output).toContain("started");
    expect(runs[1]?.output.trim()).toBe("none-left");
    expect(sleepers(BACKGROUND_SLEEPS)).toEqual([]);
  });

  it("ends a command that OpenCode times out, with everything it started", async () => {
    const runs = await turn("TIMEOUT");
    expect(runs.map((run) => run.tool)).toEqual(["bash"]);
    console.log(`[sandbox] timed-out command: ${runs[0]?.status}: ${runs[0]?.output.slice(-300)}`);
    await until(() => (sleepers([...BACKGROUND_SLEEPS, SLEEPS.timedOut]).length === 0 ? true : undefined), 20_000, "the timed-out command's processes to end");
  });

  it("chooses by KODO_AGENT_SANDBOX (default required); without bubblewrap required refuses, auto warns, off says so", async () => {
    const saved = process.env["KODO_BWRAP"];
    process.env["KODO_BWRAP"] = path.join(outside, "no-bwrap-here");
    const lines: string[] = [];
    try {
      const options = { writable: [worktreesRoot], masked: [home] };
      await expect(chooseAgentSandbox("required", options, (line) => lines.push(line))).rejects.toMatchObject({ code: "SANDBOX_UNAVAILABLE" });
      expect(await chooseAgentSandbox("auto", options, (line) => lines.push(line))).toBeUndefined();
      expect(lines.at(-1)).toMatch(/^WARNING: .*UNSANDBOXED/);
      expect(await chooseAgentSandbox("off", options, (line) => lines.push(line))).toBeUndefined();
      const other = tempDir("nobwrap");
      await expect(
        startOpenCodeServer({ stateDir: other, model: { baseUrl: model.url, apiKey: "k", model: "scripted-1" }, logFile: path.join(other, "x.log"), sandbox: options }),
      ).rejects.toMatchObject({ code: "SANDBOX_UNAVAILABLE" });
    } finally {
      if (saved === undefined) delete process.env["KODO_BWRAP"];
      else process.env["KODO_BWRAP"] = saved;
    }
    expect(await chooseAgentSandbox("required", { writable: [] }, (line) => lines.push(line))).toEqual({ writable: [] });

    expect(loadConfig({}).agentSandbox).toBe("required");
    expect(loadConfig({ KODO_AGENT_SANDBOX: "auto" }).agentSandbox).toBe("auto");
    expect(loadConfig({ KODO_AGENT_SANDBOX: "OFF" }).agentSandbox).toBe("off");
    expect(() => loadConfig({ KODO_AGENT_SANDBOX: "yes" })).toThrow(/KODO_AGENT_SANDBOX must be one of required, auto, off/);
  });

  it("stop() during a running command ends it and everything it started, even with an empty environment", async () => {
    const client = server.client();
    server.noteDirectory(worktree);
    const session = await client.session.create({ directory: worktree, title: "running", permission });
    const sessionID = session.data?.id ?? "";
    await client.session.promptAsync({ sessionID, directory: worktree, agent: "build", parts: [{ type: "text", text: "RUNNING" }] });
    const all = [...BACKGROUND_SLEEPS, SLEEPS.foreground];
    await until(() => allRunning(all), 60_000, "the command and its background processes");

    const report = await server.stop();
    expect(report.abortedSessions).toEqual([sessionID]);
    expect(report.survivors).toEqual([]);
    expect(isAlive(server.pid)).toBe(false);
    expect(sleepers(all)).toEqual([]);
    expect(markedProcesses(stateDir)).toEqual([]);
    expect(readPidfile(stateDir)).toBeUndefined();
  });

  it("a SIGKILLed owner leaves nothing: not the server, not what its commands started", async () => {
    const ownerState = tempDir("owner-state");
    const owner = await startOwner(buildOwnerProgram(), ownerState, model.url, [], {
      KODO_TEST_AGENT_SANDBOX: JSON.stringify({ writable: [worktreesRoot], masked: [home] }),
    });
    expect(path.basename((readCmdline(owner.serverPid) ?? [])[0] ?? "")).toBe("bwrap");
    const http = createTimedFetch(owner.password);
    let killed = false;
    try {
      const client = createOpencodeClient({ baseUrl: owner.url, fetch: http.fetch });
      const session = await client.session.create({ directory: worktree, title: "owner", permission });
      const sessionID = session.data?.id ?? "";
      await client.session.promptAsync({ sessionID, directory: worktree, agent: "build", parts: [{ type: "text", text: "RUNNING" }] });
      const all = [...BACKGROUND_SLEEPS, SLEEPS.foreground];
      await until(() => allRunning(all), 60_000, "the command and its background processes");
      await http.close();
      owner.child.kill("SIGKILL");
      killed = true;
    } finally {
      if (!killed) {
        await http.close();
        owner.child.kill("SIGKILL");
      }
    }
    await until(() => (isAlive(owner.ownerPid) ? undefined : true), 10_000, "the owner's death");
    await until(
      () => (!isAlive(owner.serverPid) && sleepers(Object.values(SLEEPS)).length === 0 && markedProcesses(ownerState).length === 0 ? true : undefined),
      15_000,
      "the sandbox to die with its owner",
    );
  });
});
