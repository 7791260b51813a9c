/**
 * Without bubblewrap (simulated with KODO_BWRAP): refuse unless the user opted out; with the
 * opt-out, run unconfined with process-group + marker cleanup and say so. The same escape
 * payload is used; what this fallback cannot catch is shown, not hidden.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isKodoError } from "../../src/lib/errors.js";
import { BWRAP_ENV, RUN_MARKER_ENV, probeSandbox, runSandboxed, type SandboxSpec } from "../../src/sandbox/index.js";
import { TEST_MARK_ENV, baseSpec, describePids, endLeftovers, killPids, markedProcesses, newMark, newTag, removeTempDirs, sleepers, tempDir, until, watchSleepers, writePayload, type PayloadEnd } from "./helpers.js";
import { buildOwnerProgram, startOwner } from "./owner-child.js";

/** `sleep &`, setsid, double fork, TERM-ignoring, respawn loop */
const PAYLOAD_SLEEPERS = 5;
let root: string;
let worktree: string;
let payload: string;
let saved: string | undefined;

beforeAll(() => {
  root = tempDir("fallback");
  worktree = path.join(root, "worktree");
  fs.mkdirSync(worktree);
  payload = writePayload(worktree);
});

beforeEach(() => {
  saved = process.env[BWRAP_ENV];
  process.env[BWRAP_ENV] = "/nonexistent/bwrap";
});

afterEach(() => {
  if (saved === undefined) delete process.env[BWRAP_ENV];
  else process.env[BWRAP_ENV] = saved;
});

afterAll(() => {
  const left = endLeftovers();
  removeTempDirs();
  expect(left).toEqual([]);
});

function optOut(overrides: Partial<SandboxSpec>): SandboxSpec {
  return baseSpec(worktree, { allowUnsandboxed: true, ...overrides });
}

async function runPayload(end: PayloadEnd, timeoutMs: number, graceMs: number) {
  const tag = newTag();
  const mark = newMark();
  const run = runSandboxed(optOut({ command: [payload, tag, end], env: { [TEST_MARK_ENV]: mark }, timeoutMs, graceMs }));
  const { value: result, maxSleepers } = await watchSleepers(run, tag);
  const left = [...new Set([...sleepers(tag), ...markedProcesses(mark)])];
  return { result, maxSleepers, left: describePids(left) };
}

describe("bubblewrap missing", () => {
  it("the probe says why", async () => {
    expect(await probeSandbox()).toEqual({ available: false, reason: `${BWRAP_ENV}=/nonexistent/bwrap is not an executable file` });
  });

  it("refuses with SANDBOX_UNAVAILABLE when the user did not opt out", async () => {
    const error: unknown = await runSandboxed(baseSpec(worktree, { command: ["/bin/sh", "-c", "touch ran"] })).catch((caught: unknown) => caught);
    expect(isKodoError(error) && error.code).toBe("SANDBOX_UNAVAILABLE");
    expect(isKodoError(error) && error.message).toContain("/nonexistent/bwrap");
    expect(fs.existsSync(path.join(worktree, "ran"))).toBe(false);
  });

  it("treats a bwrap that cannot create namespaces as unavailable", async () => {
    const fake = path.join(root, "broken-bwrap");
    fs.writeFileSync(fake, '#!/bin/sh\n[ "$1" = --version ] && { echo "bubblewrap 0.8.0"; exit 0; }\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n', { mode: 0o755 });
    process.env[BWRAP_ENV] = fake;
    const probe = await probeSandbox();
    expect(probe).toMatchObject({ available: false, version: "0.8.0" });
    expect(probe.reason).toContain("No permissions to creating new namespace");
    const error: unknown = await runSandboxed(baseSpec(worktree)).catch((caught: unknown) => caught);
    expect(isKodoError(error) && error.code).toBe("SANDBOX_UNAVAILABLE");
  });
});

describe("the user's opt-out", () => {
  it("runs unconfined, says so, and passes the environment plus the cleanup marker", async () => {
    const result = await runSandboxed(optOut({ command: ["/usr/bin/env"], env: { FOO: "bar" } }));
    expect(result).toMatchObject({ exitCode: 0, sandboxed: false, cleanup: { method: "process-group", survivors: [] } });
    expect(result.notes[0]).toContain("ran unsandboxed with process-group cleanup (user opt-out)");
    const names = result.stdout.text.trim().split("\n").map((line) => line.slice(0, line.indexOf("="))).sort();
    expect(names).toEqual(["FOO", "HOME", RUN_MARKER_ENV, "PATH", "PWD"]);
  });

  it("reports a command that cannot start as exit 127", async () => {
    const result = await runSandboxed(optOut({ command: ["no-such-command-kodo"] }));
    expect(result.exitCode).toBe(127);
    expect(result.notes.join("\n")).toContain("ENOENT");
  });

  it("after a timeout, the payload leaves no survivors", async () => {
    const { result, maxSleepers, left } = await runPayload("wait", 1_500, 2_000);
    expect(maxSleepers).toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ timedOut: true, sandboxed: false, cleanup: { method: "process-group", survivors: [] } });
    const cleanupMs = result.durationMs - 1_500;
    console.log(`fallback, command dies on SIGTERM: timeout → no process left in ${cleanupMs.toFixed(1)} ms`);
    // not waiting for the payload's 300 s sleeps is shown by `left` being empty within the test's own timeout
  });

  it("after a timeout, nothing is left when the command itself ignores SIGTERM", async () => {
    const { result, maxSleepers, left } = await runPayload("ignore-term", 1_500, 500);
    expect(maxSleepers).toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ timedOut: true, signal: "SIGKILL", cleanup: { survivors: [] } });
    console.log(`fallback, command ignores SIGTERM (grace 500 ms): timeout → no process left in ${(result.durationMs - 1_500).toFixed(1)} ms`);
  });

  it("when the command exits on its own, its background children are gone by the time runSandboxed resolves", async () => {
    const { result, maxSleepers, left } = await runPayload("exit", 30_000, 2_000);
    expect(maxSleepers).toBe(PAYLOAD_SLEEPERS);
    expect(left).toEqual([]);
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, cleanup: { survivors: [] } });
    expect(result.notes.join("\n")).toMatch(/ended \d+ process\(es\) the command left running/);
  });

  it("cannot see a child that leaves the group and clears its environment (the hole a pid namespace closes)", async () => {
    const escaping = writePayload(root, { clearEnv: true });
    const tag = newTag();
    const result = await runSandboxed(optOut({ command: [escaping, tag, "exit"], timeoutMs: 30_000 }));
    const left = sleepers(tag);
    console.log(`fallback, env -i setsid child: ${left.length} survivor(s) not reported by the result (${describePids(left).join("; ")})`);
    expect(result.cleanup.survivors).toEqual([]);
    expect(left).toHaveLength(1);
    killPids(left);
  });

  it("cannot clean up when kodo itself is SIGKILLed (no --die-with-parent without bwrap)", async () => {
    const tag = newTag();
    const mark = newMark();
    const owner = startOwner(buildOwnerProgram(), { payload, tag, cwd: worktree, mark, allowUnsandboxed: true, bwrap: "/nonexistent/bwrap" });
    const exited = new Promise((resolve) => owner.once("exit", resolve));
    expect(await until(() => sleepers(tag).length === PAYLOAD_SLEEPERS, 15_000)).toBe(true);
    owner.kill("SIGKILL");
    await exited;
    await until(() => sleepers(tag).length === 0, 1_000);
    const left = [...new Set([...sleepers(tag), ...markedProcesses(mark)])];
    console.log(`fallback, owner SIGKILLed: ${left.length} process(es) survive (${sleepers(tag).length} payload sleeps); ended by the test`);
    expect(left.length).toBeGreaterThan(0);
    // what kodo's next start would have to find by marker: ended here, repeatedly (the respawn loop and churn fork)
    const ended = await until(() => {
      killPids([...sleepers(tag), ...markedProcesses(mark)]);
      return sleepers(tag).length === 0 && markedProcesses(mark).length === 0;
    }, 3_000);
    expect(ended).toBe(true);
  });
});
