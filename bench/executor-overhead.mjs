// The test executor's overhead: runTests (sandbox, report parsing, artifacts, cleanup) against the
// same runner started directly with the same argv on the same suite, as a ratio of medians
// (target ≤ 1.05). Suites: 30 small pytest tests, 30 small node:test tests. Runs alternate
// (direct, executor, direct, …) so drift on the machine hits both alike. Prints; asserts nothing.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runTests } from "../apps/server/dist/verify/executor.js";
import { buildInvocation } from "../apps/server/dist/verify/runner-commands.js";
import { baseCommand } from "../apps/server/dist/verify/runners.js";
import { NODE_REPORTER_FILE, NODE_REPORTER_SOURCE } from "../apps/server/dist/verify/reports/node-reporter.js";
import { scratchDirectories, testEnvironment } from "../apps/server/dist/verify/test-env.js";
import { fmt } from "./lib.mjs";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TESTS = 30;

function write(root, files) {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
}

function pytestSuite(root) {
  const body = Array.from({ length: TESTS }, (_, i) => `def test_${i}():\n    assert sum(range(${i + 10})) == ${((i + 10) * (i + 9)) / 2}\n`).join("\n");
  write(root, { "pytest.ini": "[pytest]\n", "tests/test_bench.py": body });
}

function nodeSuite(root) {
  const body = Array.from({ length: TESTS }, (_, i) => `test("t${i}", () => assert.equal([...Array(${i + 10}).keys()].reduce((a, b) => a + b, 0), ${((i + 10) * (i + 9)) / 2}));`).join("\n");
  write(root, {
    "package.json": JSON.stringify({ type: "module", scripts: { test: "node --test" } }),
    "test/bench.test.js": `import test from "node:test";\nimport assert from "node:assert/strict";\n${body}\n`,
  });
}

/** The executor's own first-run argv and environment, run directly (no sandbox, no parsing). */
async function directRunner(runner, worktree) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "kodo-bench-direct-"));
  for (const dir of scratchDirectories(scratch, runner)) mkdirSync(dir, { recursive: true });
  if (runner === "node") writeFileSync(path.join(scratch, NODE_REPORTER_FILE), NODE_REPORTER_SOURCE);
  const base = await baseCommand(runner, worktree);
  const { command } = buildInvocation({ runner, base, worktree, target: ".", scratch, label: "main" });
  const env = testEnvironment(scratch);
  return {
    command,
    run: () => new Promise((resolve, reject) => {
      const started = performance.now();
      const child = spawn(command[0], command.slice(1), { cwd: worktree, env, stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.resume();
      child.stderr.resume();
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command.join(" ")} exited ${code}`))));
    }),
    cleanup: () => rmSync(scratch, { recursive: true, force: true }),
  };
}

async function executorRun(worktree) {
  const artifactsDir = mkdtempSync(path.join(os.tmpdir(), "kodo-bench-artifacts-"));
  try {
    const started = performance.now();
    const result = await runTests({ worktree, target: ".", budget: { remainingMs: 600_000 }, artifactsDir });
    const elapsed = performance.now() - started;
    if (result.class !== "PASSED") throw new Error(`executor: ${result.class} ${result.reason}`);
    return { elapsed, sandboxed: result.sandboxed };
  } finally {
    rmSync(artifactsDir, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

console.log(`executor overhead: ${TESTS} tests per suite, median of ${ROUNDS} alternating rounds, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}`);
console.log("| runner | direct (median) | executor (median) | ratio | executor − direct |");
console.log("|---|---|---|---|---|");
for (const [runner, make] of [["pytest", pytestSuite], ["node", nodeSuite]]) {
  const worktree = mkdtempSync(path.join(os.tmpdir(), `kodo-bench-${runner}-`));
  make(worktree);
  const direct = await directRunner(runner, worktree);
  try {
    await direct.run(); // warm-up: file caches, python's bytecode of pytest itself
    await executorRun(worktree); // warm-up: the sandbox probe
    const directTimes = [];
    const executorTimes = [];
    let sandboxed = true;
    for (let round = 0; round < ROUNDS; round += 1) {
      directTimes.push(await direct.run());
      const executed = await executorRun(worktree);
      executorTimes.push(executed.elapsed);
      sandboxed &&= executed.sandboxed;
    }
    const d = median(directTimes);
    const e = median(executorTimes);
    console.log(`| ${runner}${sandboxed ? "" : " (unsandboxed)"} | ${fmt(d)} | ${fmt(e)} | ${(e / d).toFixed(3)} | ${fmt(e - d)} |`);
  } finally {
    direct.cleanup();
    rmSync(worktree, { recursive: true, force: true });
  }
}
