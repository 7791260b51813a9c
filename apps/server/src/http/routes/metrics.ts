/**
 * GET /metrics: Prometheus text exposition of kodo's state (apps/server/src/metrics/). Behind the
 * same bearer token, Host and Origin checks as /api (createApp's middleware covers every route);
 * see docs/metrics.md for the scrape configuration.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Pool } from "pg";
import { collectMetrics, type ProcessFacts } from "../../metrics/collect.js";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../../metrics/exposition.js";

export interface MetricsRouteDeps {
  pool: Pool;
  /** the app's health: version, worker, and the worker's live OpenCode server (restarts) */
  health: () => Promise<ProcessFacts>;
}

export function registerMetricsRoutes(app: OpenAPIHono, deps: MetricsRouteDeps): void {
  app.get("/metrics", async (c) => {
    const families = await collectMetrics(deps.pool, await deps.health());
    return c.body(renderExposition(families), 200, { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" });
  });
}
