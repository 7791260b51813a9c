// Runs every benchmark, each in its own process (DBOS is one instance per process).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const only = process.argv.slice(2);
const all = ["execute-latency", "cold-start", "recovery", "sandbox-cleanup", "executor-overhead"];
let failed = false;
for (const name of only.length > 0 ? only : all) {
  console.log(`\n== ${name} ==`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url))], { stdio: "inherit", timeout: 600_000 });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
