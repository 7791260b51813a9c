// Shared helpers for kodo's benchmarks. Figures are printed, never asserted.
import { chmod, mkdtemp, readFile } from "node:fs/promises";
import http from "node:http";
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

/** The API token a kodo home's server uses. */
export async function tokenOf(home) {
  return (await readFile(path.join(home, "token"), "utf8")).trim();
}

export async function postJson(url, body, token) {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const payload = await response.json();
  if (!response.ok) throw new Error(`${url} → ${response.status} ${JSON.stringify(payload)}`);
  return payload;
}

/**
 * A lean HTTP client for load generation (node:http, keep-alive, one socket per client): the
 * figures should be kodo's, not the client's (undici's fetch costs more CPU per request here
 * than the routes being measured).
 */
export function leanClient(base, token, sockets = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  return (method, route, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        `${base}${route}`,
        {
          method,
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode >= 300) reject(new Error(`${method} ${route} → ${res.statusCode} ${text}`));
            else resolve(text.length > 0 ? JSON.parse(text) : undefined);
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
}
