/**
 * No process survives a sandbox, with the real bubblewrap and a payload that tries every usual
 * way out: `sleep &`, `setsid sleep &`, a double fork, a TERM-ignoring child, a respawn loop, a
 * fork churn, and (here, unlike the fallback) a child that also clears its environment.
 * Survivors are looked for by command line and by marker in /proc, right when runSandboxed resolves.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSandboxed } from "../../src/sandbox/index.js";
import { TEST_MARK_ENV, baseSpec, describePids, endLeftovers, markedProcesses, newMark, newTag, removeTempDirs, sleepers, tempDir, until, watchSleepers, writePayload, type PayloadEnd } from "./helpers.js";
import { buildOwnerProgram, startOwner } from "./owner-child.js";

/** `sleep &`, setsid, double fork, TERM-ignoring, respawn loop, cleared environment */
const PAYLOAD_SLEEPERS = 6;
let worktree: string;
let payload: string;

beforeAll(() => {
  worktree = path.join(tempDir("cleanup"), "worktree");
  fs.mkdirSync(worktree);
  payload = writePayload(worktree, { clearEnv: true });
});

afterAll(() => {
  const left = endLeftovers();
  removeTempDirs();
  expect(left).toEqual([]);
});

async function runPayload(end: PayloadEnd, timeoutMs: number, graceMs: number) {
  const tag = newTag();
  const mark = newMark();
  const began = performance.now();
  const run = runSandboxed(baseSpec(worktree, { command: [payload, tag, end], env: { [TEST_MARK_ENV]: mark }, timeoutMs, graceMs }));
  const { value: result, maxSleepers } = await watchSleepers(run, tag);
  const resolvedAt = performance.now();
  // checked at once, not after a wait: gone means gone when runSandboxed resolves
  const left = [...new Set([...sleepers(tag), ...markedProcesses(mark)])];
  return { result, maxSleepers, left: describePids(left), resolvedAfterMs: resolvedAt - began };
}

describe("cleanup under bubblewrap", () => {
  it("after a timeout, nothing is left and the end is quick (the command dies on SIGTERM)", async () => {
    const { result, maxSleepers, left, resolvedAfterMs } = await runPayload("wait", 1_500, 2_000);
    expect(maxSleepers, "the payload's sleeps were all running").toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ timedOut: true, sandboxed: true, cleanup: { method: "pid-namespace", survivors: [] } });
    expect(result.stdout.text).toContain("started");
    const cleanupMs = result.durationMs - 1_500;
    console.log(`sandbox, command dies on SIGTERM: timeout → no process left in ${cleanupMs.toFixed(1)} ms (resolved ${resolvedAfterMs.toFixed(0)} ms after the call)`);
    // not waiting for the payload's 300 s sleeps is shown by `left` being empty within the test's own timeout
  });

  it("after a timeout, nothing is left when the command itself ignores SIGTERM (SIGKILL after the grace)", async () => {
    const { result, maxSleepers, left } = await runPayload("ignore-term", 1_500, 500);
    expect(maxSleepers).toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ timedOut: true, exitCode: 137, cleanup: { survivors: [] } });
    const cleanupMs = result.durationMs - 1_500;
    console.log(`sandbox, command ignores SIGTERM (grace 500 ms): timeout → no process left in ${cleanupMs.toFixed(1)} ms`);
    expect(cleanupMs).toBeGreaterThanOrEqual(450);
  });

  it("when the command exits on its own, its background children are gone by the time runSandboxed resolves", async () => {
    const { result, maxSleepers, left } = await runPayload("exit", 30_000, 2_000);
    expect(maxSleepers).toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, cleanup: { survivors: [] } });
    expect(result.durationMs).toBeLessThan(5_000);
    console.log(`sandbox, command exits with children running: resolved in ${result.durationMs.toFixed(1)} ms (payload sleeps 500 ms)`);
  });

  it("never waits on an orphan holding stdout", async () => {
    const result = await runSandboxed(baseSpec(worktree, { command: ["/bin/sh", "-c", "(sleep 30; echo late) & echo early"], timeoutMs: 10_000 }));
    expect(result.stdout.text).toBe("early\n");
    expect(result.durationMs).toBeLessThan(10_000); // the orphan would hold stdout for 30 s
  });
});

describe("cleanup when kodo itself dies", () => {
  it("SIGKILL to the Node process that called runSandboxed leaves nothing (--die-with-parent)", async () => {
    const tag = newTag();
    const mark = newMark();
    const owner = startOwner(buildOwnerProgram(), { payload, tag, cwd: worktree, mark, allowUnsandboxed: false });
    const exited = new Promise((resolve) => owner.once("exit", resolve));
    expect(await until(() => sleepers(tag).length === PAYLOAD_SLEEPERS, 15_000)).toBe(true);
    const killedAt = performance.now();
    owner.kill("SIGKILL");
    await exited;
    const gone = await until(() => sleepers(tag).length === 0 && markedProcesses(mark).length === 0, 5_000);
    console.log(`sandbox, owner SIGKILLed: no process left after ${(performance.now() - killedAt).toFixed(1)} ms`);
    expect(gone).toBe(true);
  });
});
