// POST /api/tasks/:id/execute latency at 50 concurrent clients (target p99 ≤ 10 ms; the seed asked < 500 ms).
// Baseline in the same run: GET /api/health at the same concurrency (the HTTP stack with no work).
// An API-only kodo process (no worker) so the figure is the API's own cost: validate, insert the run,
// enqueue the DBOS workflow — one transaction — and answer 202.
import { spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSampleRepo } from "../apps/server/dist/demo/sample-repo.js";
import { tempHome, load, summarize, fmt, leanClient, tokenOf } from "./lib.mjs";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const WARMUP = 100;

const home = await tempHome("kodo-bench-exec-");
// kodo runs in its own process (as a user runs it); this process only generates load.
const child = spawn(process.execPath, [fileURLToPath(new URL("../apps/cli/dist/main.js", import.meta.url)), "serve", "--port", "0", "--no-worker"], {
  env: { ...process.env, KODO_HOME: home },
  stdio: ["ignore", "pipe", "inherit"],
});
const kodo = {
  url: await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`kodo did not start:\n${out}`)), 120_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  }),
  stop: () => new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  }),
};
const call = leanClient(kodo.url, await tokenOf(home));
try {
  const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
  const tasks = [];
  await load(REQUESTS + WARMUP, 10, async () => {
    tasks.push((await call("POST", "/api/tasks", { title: "bench", prompt: "bench", repoPath: repo })).id);
  });
  // warm-up: JIT, pool connections
  await load(WARMUP, CONCURRENCY, async (i) => call("POST", `/api/tasks/${tasks[i]}/execute`));
  await load(WARMUP, CONCURRENCY, async () => call("GET", "/api/health"));

  const baseline = summarize(await load(REQUESTS, CONCURRENCY, async () => call("GET", "/api/health")));
  const execute = summarize(await load(REQUESTS, CONCURRENCY, async (i) => call("POST", `/api/tasks/${tasks[WARMUP + i]}/execute`)));
  console.log(`execute latency, ${REQUESTS} requests, ${CONCURRENCY} concurrent clients (API-only process, embedded Postgres)`);
  console.log(`  GET /api/health (baseline)   p50 ${fmt(baseline.p50)}  p90 ${fmt(baseline.p90)}  p99 ${fmt(baseline.p99)}  max ${fmt(baseline.max)}`);
  console.log(`  POST …/execute               p50 ${fmt(execute.p50)}  p90 ${fmt(execute.p90)}  p99 ${fmt(execute.p99)}  max ${fmt(execute.max)}`);
  console.log(`  ratio execute/baseline       p50 ${(execute.p50 / baseline.p50).toFixed(2)}×  p99 ${(execute.p99 / baseline.p99).toFixed(2)}×`);
  console.log(`  target p99 ≤ 10 ms: ${execute.p99 <= 10 ? "met" : "NOT met"}; seed requirement < 500 ms: ${execute.max < 500 ? "met" : "NOT met"}`);
} finally {
  await kodo.stop();
}
