/**
 * The OpenCode server supervisor against the real `opencode` binary: start, health, stop with
 * nothing left in /proc, restart after a crash. No model calls are made here.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readPidfile } from "../../src/agent/pidfile.js";
import { isAlive } from "../../src/agent/process-table.js";
import { startOpenCodeServer, type OpenCodeServer } from "../../src/agent/server-supervisor.js";
import { leftoverProcesses, markedProcesses, removeTempDirs, tempStateDir, until } from "./helpers.js";

const model = { baseUrl: "http://127.0.0.1:9/v1", apiKey: "test-key", model: "scripted-1" };
const started: OpenCodeServer[] = [];

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  const leftovers = leftoverProcesses();
  removeTempDirs();
  expect(leftovers).toEqual([]);
});

describe("startOpenCodeServer", () => {
  it("starts isolated and healthy, and stop() leaves no process behind", async () => {
    const stateDir = tempStateDir("sup");
    const t0 = performance.now();
    const server = await startOpenCodeServer({ stateDir, model, logFile: path.join(stateDir, "opencode.log") });
    started.push(server);
    const startMs = performance.now() - t0;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.state).toBe("running");

    const health = await server.client().global.health();
    expect(health.data).toMatchObject({ healthy: true, version: "1.18.33" });

    // the password is required
    const anonymous = await fetch(`${server.url}/global/health`, { signal: AbortSignal.timeout(3_000) });
    expect(anonymous.status).toBe(401);

    const pidfile = readPidfile(stateDir);
    expect(pidfile).toMatchObject({ pid: server.pid, pgid: server.pid, url: server.url, ownerPid: process.pid });
    expect(fs.statSync(path.join(stateDir, "opencode.pid.json")).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(stateDir, "xdg", "data", "opencode"))).toBe(true);
    expect(markedProcesses(stateDir).map((p) => p.pid)).toContain(server.pid);

    const t1 = performance.now();
    const report = await server.stop();
    const stopMs = performance.now() - t1;
    expect(report.survivors).toEqual([]);
    expect(isAlive(server.pid)).toBe(false);
    expect(markedProcesses(stateDir)).toEqual([]);
    expect(readPidfile(stateDir)).toBeUndefined();
    expect(() => server.client()).toThrow(/stopped/);
    // idempotent
    expect(await server.stop()).toEqual(report);
    console.log(`[timing] start ${Math.round(startMs)} ms, stop ${Math.round(stopMs)} ms`);
  });

  it("restarts a server that was killed, on a new process, and the client follows", async () => {
    const stateDir = tempStateDir("restart");
    const restarts: number[] = [];
    const server = await startOpenCodeServer({
      stateDir,
      model,
      logFile: path.join(stateDir, "opencode.log"),
      onRestart: (info) => restarts.push(info.restarts),
      restart: { initialDelayMs: 100 },
    });
    started.push(server);
    const firstPid = server.pid;
    const reconnected = new Promise<void>((resolve) => {
      server.events.subscribe((event) => {
        if (event.type === "reconnected") resolve();
      });
    });
    const t0 = performance.now();
    process.kill(-firstPid, "SIGKILL");
    await until(() => (server.restarts === 1 && server.state === "running" ? true : undefined), 30_000, "restart");
    console.log(`[timing] restart after SIGKILL took ${Math.round(performance.now() - t0)} ms`);
    expect(restarts).toEqual([1]);
    expect(server.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(readPidfile(stateDir)).toMatchObject({ pid: server.pid, url: server.url });
    const health = await server.client().global.health();
    expect(health.data).toMatchObject({ healthy: true });
    await reconnected;

    const report = await server.stop();
    expect(report.survivors).toEqual([]);
    expect(markedProcesses(stateDir)).toEqual([]);
  });

  it("stop() during a restart is bounded and leaves nothing, even a server the restart spawns", async () => {
    const stateDir = tempStateDir("stopdur");
    const server = await startOpenCodeServer({ stateDir, model, logFile: path.join(stateDir, "opencode.log"), restart: { initialDelayMs: 50 } });
    started.push(server);
    process.kill(-server.pid, "SIGKILL");
    await until(() => (server.state === "restarting" ? true : undefined), 5_000, "restarting");
    await new Promise((resolve) => setTimeout(resolve, 300)); // the relaunch is under way
    const t0 = performance.now();
    const report = await server.stop();
    console.log(`[timing] stop during a restart ${Math.round(performance.now() - t0)} ms`);
    expect(report.survivors).toEqual([]);
    expect(server.state).toBe("stopped");
    expect(server.restarts).toBe(0);
    expect(markedProcesses(stateDir)).toEqual([]);
    expect(readPidfile(stateDir)).toBeUndefined();
  });

  it("gives up after the bounded restart attempts and says so", async () => {
    const stateDir = tempStateDir("giveup");
    const logDir = path.join(stateDir, "logs");
    const givenUp: string[] = [];
    const server = await startOpenCodeServer({
      stateDir,
      model,
      logFile: path.join(logDir, "opencode.log"),
      restart: { maxAttempts: 2, initialDelayMs: 50 },
      onGiveUp: (error) => givenUp.push(error.code),
    });
    started.push(server);
    // every relaunch now fails: the log directory became a file
    fs.rmSync(logDir, { recursive: true });
    fs.writeFileSync(logDir, "not a directory");
    process.kill(-server.pid, "SIGKILL");
    await until(() => (server.state === "failed" ? true : undefined), 10_000, "give up");
    expect(givenUp).toEqual(["OPENCODE_START_FAILED"]);
    expect(() => server.client()).toThrow(/failed/);
    expect(readPidfile(stateDir)).toBeUndefined();
    expect(markedProcesses(stateDir)).toEqual([]);
    expect((await server.stop()).survivors).toEqual([]);
  });

  it("fails with OPENCODE_START_FAILED within the deadline and leaves nothing running", async () => {
    const stateDir = tempStateDir("deadline");
    const t0 = performance.now();
    await expect(
      startOpenCodeServer({ stateDir, model, logFile: path.join(stateDir, "opencode.log"), readyTimeoutMs: 150 }),
    ).rejects.toMatchObject({ code: "OPENCODE_START_FAILED" });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(markedProcesses(stateDir)).toEqual([]);
  });
});
