// Cold start of a kodo process to ready, with its parts (Postgres, DBOS, OpenCode, HTTP).
// "cold" = a fresh home (initdb included); "warm" = the same home started again.
// Baseline in the same run: the bare OpenCode server start measured inside kodo's start.
import { startKodo, loadConfig, homePaths, startScriptedModelServer, loadScript } from "../apps/server/dist/index.js";
import { fileURLToPath } from "node:url";
import { tempHome } from "./lib.mjs";

const script = loadScript(fileURLToPath(new URL("../apps/server/assets/model-scripts/demo.json", import.meta.url)));
const model = await startScriptedModelServer({ script });
const home = await tempHome("kodo-bench-start-");
const env = { ...process.env, KODO_HOME: home, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1" };
const rows = [];
try {
  for (const label of ["cold (fresh home, initdb)", "warm (same home)"]) {
    const t0 = performance.now();
    const kodo = await startKodo({ config: { ...loadConfig(env), home: homePaths(home) }, port: 0 });
    const total = performance.now() - t0;
    const t1 = performance.now();
    await kodo.stop();
    rows.push({ label, total, stop: performance.now() - t1, parts: kodo.timings });
  }
} finally {
  await model.close();
}
console.log("kodo serve start to ready (ms)");
for (const row of rows) {
  const parts = Object.entries(row.parts).filter(([k]) => k !== "total").map(([k, v]) => `${k} ${v}`).join(", ");
  console.log(`  ${row.label.padEnd(28)} total ${row.total.toFixed(0)}  [${parts}]  stop ${row.stop.toFixed(0)}`);
  console.log(`    share of OpenCode in the start: ${((row.parts.opencode / row.total) * 100).toFixed(0)}%`);
}
