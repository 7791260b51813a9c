/** Shared pieces of the sandbox tests: temp dirs, the escape payload, and /proc checks for leftovers. */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { findProcessesWithEnv, isAlive, listPids, readCmdline } from "../../src/agent/process-table.js";
import type { SandboxSpec } from "../../src/sandbox/index.js";

/** Every payload process inherits this variable (unless it clears its environment). */
export const TEST_MARK_ENV = "KODO_SANDBOX_TEST_MARK";

const created = new Set<string>();
const marks = new Set<string>();
const tags = new Set<string>();

/**
 * A temp dir under /var/tmp, not /tmp: inside the sandbox /tmp is a private tmpfs, so only a
 * dir on the read-only root lets a test see "Read-only file system" for a worktree's sibling.
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join("/var/tmp", `kodo-sandbox-${prefix}-`));
  created.add(dir);
  return dir;
}

export function newMark(): string {
  const mark = randomUUID();
  marks.add(mark);
  return mark;
}

/** A unique sleep duration, so the payload's sleeps can be found by command line. */
export function newTag(): string {
  const tag = `300.${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;
  tags.add(tag);
  return tag;
}

export function markedProcesses(mark: string): number[] {
  return findProcessesWithEnv(TEST_MARK_ENV, mark);
}

export function sleepers(tag: string): number[] {
  return listPids().filter((pid) => pid !== process.pid && isAlive(pid) && (readCmdline(pid) ?? []).join(" ") === `sleep ${tag}`);
}

export function describePids(pids: number[]): string[] {
  return pids.map((pid) => `${pid}: ${(readCmdline(pid) ?? []).join(" ")}`);
}

export type PayloadEnd = "wait" | "exit" | "ignore-term";

/**
 * The escape payload: `sleep &`, `setsid sleep &`, a double fork, a TERM-ignoring child, a
 * respawn loop and a fork churn; `clearEnv` adds a child that leaves the group and clears its
 * environment. Then it waits (dies on SIGTERM), exits at once, or ignores SIGTERM itself.
 */
export function writePayload(dir: string, options: { clearEnv?: boolean } = {}): string {
  const file = path.join(dir, "payload.sh");
  const escapeEnv = options.clearEnv === true ? 'env -i setsid sleep "$tag" &\n' : "";
  fs.writeFileSync(
    file,
    `#!/bin/bash
tag="$1"; end="$2"
sleep "$tag" &
setsid sleep "$tag" &
( ( sleep "$tag" & ) & )
( trap '' TERM; sleep "$tag" ) &
( trap '' TERM; while :; do sleep "$tag"; done ) &
( while :; do sleep 0.01; done ) &
${escapeEnv}echo started
case "$end" in
  exit) sleep 0.5; exit 0 ;;
  ignore-term) trap '' TERM; while :; do sleep 0.2; done ;;
  *) wait ;;
esac
`,
    { mode: 0o755 },
  );
  return file;
}

export function baseSpec(worktree: string, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return { command: ["true"], cwd: worktree, writable: [worktree], network: false, env: {}, timeoutMs: 10_000, ...overrides };
}

/** Polls until `promise` settles, recording the largest number of `sleepers(tag)` seen (proves the payload ran). */
export async function watchSleepers<T>(promise: Promise<T>, tag: string): Promise<{ value: T; maxSleepers: number }> {
  let settled = false;
  let maxSleepers = 0;
  const value = promise.finally(() => {
    settled = true;
  });
  while (!settled) {
    maxSleepers = Math.max(maxSleepers, sleepers(tag).length);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { value: await value, maxSleepers };
}

/** SIGKILL, ignoring processes that are already gone (a fork churn's children come and go). */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** For afterAll: whatever this file's payloads left (expected: nothing), after SIGKILLing it so the machine stays clean. */
export function endLeftovers(): string[] {
  const left = [...marks].flatMap(markedProcesses).concat([...tags].flatMap(sleepers));
  const unique = [...new Set(left)];
  const described = describePids(unique);
  killPids(unique);
  return described;
}

export function removeTempDirs(): void {
  if (process.env["KODO_KEEP_TEST_DIRS"] === "1") return;
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  created.clear();
}

/** Polls `check` every 20 ms; true once it holds, false after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
