import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import type { Pool } from "pg";
import {
  ActivityItem,
  ApprovePlanRequest,
  CreateTaskRequest,
  ExecuteResponse,
  Health,
  PlanDecisionResponse,
  PutRepoSettingsRequest,
  RejectPlanRequest,
  RepoSettings,
  Run,
  Task,
  TaskStatus,
} from "@kodo/contracts";
import { KodoError } from "../lib/errors.js";
import type { KodoService } from "../service/kodo-service.js";
import type { GovernanceService } from "../service/governance-service.js";
import { actorOf } from "./actor.js";
import { registerGovernanceRoutes } from "./routes/governance.js";
import { registerApprovalRoutes } from "./routes/approvals.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerRunFileRoutes } from "./routes/run-files.js";
import { registerStudio } from "./studio.js";
import type { EventHub } from "../service/event-hub.js";
import { authMiddleware, type AuthOptions } from "./auth.js";
import { errorResponse, validationError } from "./errors.js";
import { eventStream } from "./sse.js";
import { body, errors, json } from "./openapi-helpers.js";

export interface AppDeps {
  service: KodoService;
  /** quorum rules, proposals and votes (routes/governance.ts) */
  governance: GovernanceService;
  pool: Pool;
  hub: EventHub;
  health: () => Promise<z.infer<typeof Health>>;
  /** who the API records as the decider of plan approvals, unless a request names one in X-Kodo-Actor */
  actor?: string;
  heartbeatMs?: number;
  /** bearer token, Host and Origin checks for every /api route (absent only in tests of the routes themselves) */
  auth?: AuthOptions;
  /** serve Studio, the web board, from this directory (its built dist) at `/`; absent: API only */
  studioDir?: string;
}

const TaskIdParam = z.object({ id: z.string().min(1).max(100) });
const RunIdParam = TaskIdParam;

const routes = {
  createTask: createRoute({ method: "post", path: "/api/tasks", request: { body: body(CreateTaskRequest) }, responses: { 201: json(Task, "the task"), ...errors } }),
  listTasks: createRoute({
    method: "get",
    path: "/api/tasks",
    request: { query: z.object({ status: TaskStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }) },
    responses: { 200: json(z.object({ tasks: z.array(Task) }), "tasks, newest first"), 400: errors[400] },
  }),
  getTask: createRoute({ method: "get", path: "/api/tasks/{id}", request: { params: TaskIdParam }, responses: { 200: json(Task, "the task"), ...errors } }),
  executeTask: createRoute({
    method: "post",
    path: "/api/tasks/{id}/execute",
    request: { params: TaskIdParam },
    responses: { 202: json(ExecuteResponse, "the run was started in the background"), ...errors },
  }),
  getRun: createRoute({ method: "get", path: "/api/runs/{id}", request: { params: RunIdParam }, responses: { 200: json(Run, "the run"), ...errors } }),
  approvePlan: createRoute({
    method: "post",
    path: "/api/runs/{id}/approve-plan",
    request: { params: RunIdParam, body: { required: false, content: { "application/json": { schema: ApprovePlanRequest } } } },
    responses: { 200: json(PlanDecisionResponse, "the plan is approved and the build starts; under a plan quorum, the vote is recorded (planQuorum) and the plan waits until the quorum decides"), ...errors },
  }),
  rejectPlan: createRoute({
    method: "post",
    path: "/api/runs/{id}/reject-plan",
    request: { params: RunIdParam, body: body(RejectPlanRequest) },
    responses: { 200: json(PlanDecisionResponse, "the plan is rejected and the run ends Rejected; under a plan quorum, only once approval can no longer be reached"), ...errors },
  }),
  cancelRun: createRoute({ method: "post", path: "/api/runs/{id}/cancel", request: { params: RunIdParam }, responses: { 200: json(Run, "the run is cancelled"), ...errors } }),
  activity: createRoute({
    method: "get",
    path: "/api/sessions/{id}/activity",
    request: { params: TaskIdParam, query: z.object({ after: z.coerce.number().int().min(0).optional() }) },
    responses: { 200: json(z.object({ items: z.array(ActivityItem) }), "what the session did"), 400: errors[400] },
  }),
  getRepoSettings: createRoute({
    method: "get",
    path: "/api/repos/settings",
    request: { query: z.object({ repoPath: z.string().min(1) }) },
    responses: { 200: json(RepoSettings, "the repository's settings (defaults when none are stored)"), ...errors },
  }),
  putRepoSettings: createRoute({
    method: "put",
    path: "/api/repos/settings",
    request: { body: body(PutRepoSettingsRequest) },
    responses: { 200: json(RepoSettings, "the stored settings"), ...errors },
  }),
  health: createRoute({ method: "get", path: "/api/health", responses: { 200: json(Health, "kodo is up") } }),
};

export function createApp(deps: AppDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return errorResponse(c, validationError(result.error));
      return undefined;
    },
  });
  // First in the chain: Host, Origin and the bearer token, before any route sees the request.
  if (deps.auth !== undefined) app.use("*", authMiddleware(deps.auth));
  const actor = deps.actor ?? "api";
  const { service } = deps;

  app.onError((error, c) => {
    if (error instanceof SyntaxError || (error instanceof Error && error.message.includes("Malformed JSON"))) {
      return errorResponse(c, new KodoError("BAD_REQUEST", "the request body is not valid JSON"));
    }
    return errorResponse(c, error);
  });
  app.notFound((c) => errorResponse(c, new KodoError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)));

  app.openapi(routes.createTask, async (c) => c.json(await service.createTask(c.req.valid("json")), 201));
  app.openapi(routes.listTasks, async (c) => {
    const query = c.req.valid("query");
    return c.json({ tasks: await service.listTasks({ ...(query.status === undefined ? {} : { status: query.status }), ...(query.limit === undefined ? {} : { limit: query.limit }) }) }, 200);
  });
  app.openapi(routes.getTask, async (c) => c.json(await service.getTask(c.req.valid("param").id), 200));
  app.openapi(routes.executeTask, async (c) => c.json(await service.executeTask(c.req.valid("param").id), 202));
  app.openapi(routes.getRun, async (c) => c.json(await service.getRun(c.req.valid("param").id), 200));
  app.openapi(routes.approvePlan, async (c) => {
    const raw = await c.req.text();
    let comment: string | undefined;
    if (raw.trim() !== "") {
      const parsed = ApprovePlanRequest.safeParse(JSON.parse(raw));
      if (!parsed.success) throw validationError(parsed.error);
      comment = parsed.data.comment;
    }
    return c.json(await service.approvePlan(c.req.valid("param").id, actorOf(c, actor), comment), 200);
  });
  app.openapi(routes.rejectPlan, async (c) => c.json(await service.rejectPlan(c.req.valid("param").id, c.req.valid("json").reason, actorOf(c, actor)), 200));
  app.openapi(routes.cancelRun, async (c) => c.json(await service.cancelRun(c.req.valid("param").id), 200));
  app.openapi(routes.activity, async (c) => c.json({ items: await service.sessionActivity(c.req.valid("param").id, c.req.valid("query").after ?? 0) }, 200));
  app.openapi(routes.getRepoSettings, async (c) => c.json(await service.repoSettings(c.req.valid("query").repoPath), 200));
  app.openapi(routes.putRepoSettings, async (c) => c.json(await service.putRepoSettings(c.req.valid("json")), 200));
  app.openapi(routes.health, async (c) => c.json(await deps.health(), 200));

  registerGovernanceRoutes(app, deps.governance, actor);
  registerApprovalRoutes(app, { pool: deps.pool, actor });
  registerMetricsRoutes(app, { pool: deps.pool, health: deps.health });
  registerRunFileRoutes(app, { pool: deps.pool });
  app.get("/api/events", (c) => eventStream(c, deps.pool, deps.hub, { heartbeatMs: deps.heartbeatMs ?? 15_000 }));
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: { title: "kodo API", version: "0.1.0", description: "A durable, governed control plane for OpenCode coding agents." },
  });
  // last: every GET outside /api that no route took is the board's
  if (deps.studioDir !== undefined) registerStudio(app, { dir: deps.studioDir });
  return app;
}
