// Sandbox cleanup and overhead. Figures are printed, never asserted.
// 1. Time from the timeout to "no process left" for the escape payload (sleep &, setsid sleep &,
//    a double fork, a TERM-ignoring child, a respawn loop, a fork churn): bubblewrap's pid
//    namespace vs the process-group fallback (KODO_BWRAP pointed nowhere + allowUnsandboxed).
// 2. Overhead of runSandboxed(["true"]) vs a bare spawn("true").
// Build first: npx tsc -b apps/server
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { runSandboxed, probeSandbox } from "../apps/server/dist/sandbox/index.js";
import { fmt, summarize } from "./lib.mjs";

const RUNS = 5;
const TIMEOUT_MS = 1_000;
const GRACE_MS = 2_000;
const OVERHEAD_RUNS = 30;
const MARK = "KODO_BENCH_MARK";

const root = fs.mkdtempSync("/var/tmp/kodo-bench-sandbox-");
const worktree = path.join(root, "worktree");
fs.mkdirSync(worktree);
const payload = path.join(worktree, "payload.sh");
fs.writeFileSync(payload, `#!/bin/bash
tag="$1"; end="$2"
sleep "$tag" &
setsid sleep "$tag" &
( ( sleep "$tag" & ) & )
( trap '' TERM; sleep "$tag" ) &
( trap '' TERM; while :; do sleep "$tag"; done ) &
( while :; do sleep 0.01; done ) &
case "$end" in
  ignore-term) trap '' TERM; while :; do sleep 0.2; done ;;
  *) wait ;;
esac
`, { mode: 0o755 });

/** Live processes carrying our mark or sleeping our tag (zombies excluded). */
function leftovers(mark, tag) {
  const found = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/\) [ZX] /.test(stat)) continue;
      const environ = fs.readFileSync(`/proc/${entry}/environ`, "utf8");
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (environ.includes(`${MARK}=${mark}`) || cmdline === `sleep ${tag}`) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

async function killAll(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/** One payload run; returns ms from the timeout to the first moment /proc shows nothing of it. */
async function cleanupTime(end, allowUnsandboxed) {
  const mark = randomUUID();
  const tag = `300.${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;
  const result = await runSandboxed({
    command: [payload, tag, end], cwd: worktree, writable: [worktree], network: false,
    env: { [MARK]: mark }, timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS, allowUnsandboxed,
  });
  const resolvedAt = performance.now();
  let left = leftovers(mark, tag);
  while (left.length > 0 && performance.now() - resolvedAt < 5_000) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    left = leftovers(mark, tag);
  }
  const extra = performance.now() - resolvedAt;
  await killAll(left);
  return { ms: result.durationMs - TIMEOUT_MS + (extra > 1 ? extra : 0), survivors: left.length, timedOut: result.timedOut, sandboxed: result.sandboxed };
}

async function series(label, end, allowUnsandboxed) {
  const samples = [];
  let survivors = 0;
  let sandboxed;
  for (let i = 0; i < RUNS; i += 1) {
    const run = await cleanupTime(end, allowUnsandboxed);
    samples.push(run.ms);
    survivors += run.survivors;
    sandboxed = run.sandboxed;
  }
  const s = summarize(samples);
  console.log(`  ${label.padEnd(58)} median ${fmt(s.p50).padStart(10)}  max ${fmt(s.max).padStart(10)}  survivors ${survivors}  (sandboxed: ${sandboxed})`);
  return s.p50;
}

async function median(times, fn) {
  const samples = [];
  for (let i = 0; i < times; i += 1) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return summarize(samples).p50;
}

function bareTrue() {
  return new Promise((resolve, reject) => {
    const child = spawn("true", { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", resolve);
  });
}

try {
  const probe = await probeSandbox();
  console.log(`bubblewrap: ${probe.available ? `available, ${probe.version}` : `unavailable (${probe.reason})`}`);
  console.log(`timeout → no process left, escape payload (median of ${RUNS}; timeout ${TIMEOUT_MS} ms, grace ${GRACE_MS} ms)`);
  const sandboxTerm = await series("bwrap pid namespace, command dies on SIGTERM", "wait", false);
  const sandboxKill = await series("bwrap pid namespace, command ignores SIGTERM", "ignore-term", false);
  process.env.KODO_BWRAP = "/nonexistent/bwrap";
  const groupTerm = await series("process-group fallback, command dies on SIGTERM", "wait", true);
  const groupKill = await series("process-group fallback, command ignores SIGTERM", "ignore-term", true);
  delete process.env.KODO_BWRAP;
  console.log(`  fallback / sandbox: ${(groupTerm / sandboxTerm).toFixed(1)}x (SIGTERM honoured), ${(groupKill / sandboxKill).toFixed(2)}x (SIGTERM ignored: both wait the grace)`);

  const base = { cwd: worktree, writable: [worktree], network: false, env: {}, timeoutMs: 10_000 };
  await runSandboxed({ ...base, command: ["true"] }); // warm the probe cache
  const sandboxed = await median(OVERHEAD_RUNS, () => runSandboxed({ ...base, command: ["true"] }));
  const bare = await median(OVERHEAD_RUNS, bareTrue);
  console.log(`overhead (median of ${OVERHEAD_RUNS}): runSandboxed(["true"]) ${fmt(sandboxed)} vs spawn("true") ${fmt(bare)} → ratio ${(sandboxed / bare).toFixed(1)}x (+${fmt(sandboxed - bare)})`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
