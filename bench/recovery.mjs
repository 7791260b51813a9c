// Recovery: kodo serve is SIGKILLed in the middle of a build, then started again on the same home.
// Prints restart → listening, restart → run resumed (next status change) and restart → Done, and as
// the baseline in the same run, approve → Done of an identical task with no crash.
import { spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startScriptedModelServer, parseScript } from "../apps/server/dist/index.js";
import { createSampleRepo } from "../apps/server/dist/demo/sample-repo.js";
import { tempHome, postJson as post, tokenOf } from "./lib.mjs";

const CLI = fileURLToPath(new URL("../apps/cli/dist/main.js", import.meta.url));
const demo = JSON.parse(await readFile(fileURLToPath(new URL("../apps/server/assets/model-scripts/demo.json", import.meta.url)), "utf8"));
for (const rule of demo.rules) if (rule.name === "build-write-source") rule.reply.delayMs = 2000;
const model = await startScriptedModelServer({ script: parseScript(demo) });
const home = await tempHome("kodo-bench-recovery-");
const env = { ...process.env, KODO_HOME: home, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1" };

const postJson = async (url, body) => post(url, body, await tokenOf(home));

function serve() {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no start:\n${out}`)), 120_000);
    child.stderr.on("data", (c) => (out += c));
    child.stdout.on("data", (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
  });
}
const getRun = async (url, id) =>
  (await fetch(`${url}/api/runs/${id}`, { headers: { authorization: `Bearer ${await tokenOf(home)}` }, signal: AbortSignal.timeout(10_000) })).json();
async function waitFor(url, id, predicate, timeoutMs = 180_000) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const run = await getRun(url, id);
    if (predicate(run)) return run;
    if (performance.now() > end) throw new Error(`run ${id} stuck in ${run.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function startTask(url, repo) {
  const task = await postJson(`${url}/api/tasks`, { title: "Add slugify", prompt: "Add a function slugify(text) and a test.", repoPath: repo });
  const { runId } = await postJson(`${url}/api/tasks/${task.id}/execute`);
  await waitFor(url, runId, (r) => r.status === "PlanningReview");
  return runId;
}

let kodo = await serve();
try {
  const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
  // baseline: no crash
  const baselineRun = await startTask(kodo.url, repo);
  const b0 = performance.now();
  await postJson(`${kodo.url}/api/runs/${baselineRun}/approve-plan`);
  await waitFor(kodo.url, baselineRun, (r) => r.status === "Done");
  const baseline = performance.now() - b0;

  // crash in the middle of the build
  const runId = await startTask(kodo.url, repo);
  const requestsBefore = model.stats().byRule["build-write-source"];
  await postJson(`${kodo.url}/api/runs/${runId}/approve-plan`);
  while (model.stats().byRule["build-write-source"] === requestsBefore) await new Promise((r) => setTimeout(r, 20));
  kodo.child.kill("SIGKILL");
  await new Promise((r) => kodo.child.once("exit", r));
  const r0 = performance.now();
  kodo = await serve();
  const listening = performance.now() - r0;
  await waitFor(kodo.url, runId, (r) => r.history.length > 3);
  const resumed = performance.now() - r0;
  const done = await waitFor(kodo.url, runId, (r) => ["Done", "Failed"].includes(r.status));
  const finished = performance.now() - r0;
  console.log("recovery after kill -9 in the middle of a build (ms)");
  console.log(`  restart → listening            ${listening.toFixed(0)}`);
  console.log(`  restart → run resumed (AiReview) ${resumed.toFixed(0)}`);
  console.log(`  restart → ${done.status.padEnd(22)} ${finished.toFixed(0)}`);
  console.log(`  baseline approve → Done (no crash) ${baseline.toFixed(0)}`);
  console.log(`  ratio (restart → Done) / baseline  ${(finished / baseline).toFixed(2)}×`);
} finally {
  kodo.child.kill("SIGTERM");
  await new Promise((r) => kodo.child.once("exit", r));
  await model.close();
}
