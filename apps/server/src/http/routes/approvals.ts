/**
 * The agents' asks that wait for a person: list, read, answer (`kodo approvals`, `kodo answer`).
 * The answer names its person with `X-Kodo-Actor`, else the app's actor.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Pool } from "pg";
import { z } from "zod";
import { AnswerApprovalRequest, Approval, ApprovalList, ApprovalStatusFilter, RunId } from "@kodo/contracts";
import { systemClock, type Clock } from "../../lib/ports.js";
import { ApprovalService } from "../../service/approval-service.js";
import { actorOf } from "../actor.js";
import { body, errors, json } from "../openapi-helpers.js";

const IdParam = z.object({ id: z.string().min(1).max(100) });

const routes = {
  list: createRoute({
    method: "get",
    path: "/api/approvals",
    request: {
      query: z.object({
        status: ApprovalStatusFilter.default("pending"),
        runId: RunId.optional(),
        limit: z.coerce.number().int().min(1).max(1000).optional(),
      }),
    },
    responses: { 200: json(ApprovalList, "asks; pending ones by deadline (soonest first), others newest first"), 400: errors[400] },
  }),
  get: createRoute({ method: "get", path: "/api/approvals/{id}", request: { params: IdParam }, responses: { 200: json(Approval, "the ask"), ...errors } }),
  answer: createRoute({
    method: "post",
    path: "/api/approvals/{id}",
    request: { params: IdParam, body: body(AnswerApprovalRequest) },
    responses: {
      200: json(Approval, "answered (or the same answer was already recorded); the worker hands it to the agent"),
      ...errors,
    },
  }),
};

export function registerApprovalRoutes(app: OpenAPIHono, deps: { pool: Pool; actor: string; clock?: Clock }): void {
  const approvals = new ApprovalService({ pool: deps.pool, clock: deps.clock ?? systemClock });
  app.openapi(routes.list, async (c) => {
    const query = c.req.valid("query");
    const list = await approvals.list({
      status: query.status,
      ...(query.runId === undefined ? {} : { runId: query.runId }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    });
    return c.json({ approvals: list }, 200);
  });
  app.openapi(routes.get, async (c) => c.json(await approvals.get(c.req.valid("param").id), 200));
  app.openapi(routes.answer, async (c) => c.json(await approvals.answer(c.req.valid("param").id, c.req.valid("json"), actorOf(c, deps.actor)), 200));
}
