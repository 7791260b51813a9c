// Shared helpers for kodo's benchmarks. Figures are printed, never asserted.
import { chmod, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export async function tempHome(prefix) {
  const home = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(home, 0o755); // as root, embedded Postgres runs as "postgres" and must reach it
  return home;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

export const fmt = (ms) => `${ms.toFixed(2)} ms`;

/** Runs `worker(i)` for i in [0, total) with `concurrency` in flight; returns per-call latencies (ms). */
export async function load(total, concurrency, worker) {
  const latencies = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await worker(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return latencies;
}

export async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const payload = await response.json();
  if (!response.ok) throw new Error(`${url} → ${response.status} ${JSON.stringify(payload)}`);
  return payload;
}
