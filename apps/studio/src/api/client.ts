/**
 * The board's client of the kodo API: `Authorization: Bearer` on every request (no cookies, so no
 * cross-site request can act as the board), answers parsed with the schemas of @kodo/contracts,
 * failures as `ApiFailure` with the server's stable code. The decisions (a plan approved or rejected,
 * an ask answered) also send `X-Kodo-Actor` with the name the person declared, when there is one.
 */
import {
  ApiError,
  Approval,
  ApprovalList,
  ExecuteResponse,
  PlanDecisionResponse,
  PlanQuorumStatus,
  Run,
  RunSessionList,
  Task,
  ActivityItem,
  type AnswerApprovalRequest,
  type ApprovalStatusFilter,
  type CreateTaskRequest,
  type RunSession,
} from "@kodo/contracts";

export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

/** The schema of one field of an answer such as `{ tasks: [...] }`. */
function field<T>(key: string, schema: Schema<T>): Schema<T> {
  return { safeParse: (value) => schema.safeParse(typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined) };
}

const TaskList = field("tasks", Task.array());
const ActivityList = field("items", ActivityItem.array());

const REQUEST_TIMEOUT_MS = 20_000;

/** The header that names who decides (apps/server/src/http/actor.ts). */
export const ACTOR_HEADER = "x-kodo-actor";

export class KodoApi {
  readonly #token: string;
  readonly #onUnauthorized: () => void;
  readonly #actor: () => string | undefined;

  /** `actor`: the declared name at the time of a decision; undefined sends no header (kodo records `api`). */
  constructor(token: string, onUnauthorized: () => void, actor: () => string | undefined = () => undefined) {
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
    this.#actor = actor;
  }

  get token(): string {
    return this.#token;
  }

  listTasks(): Promise<Task[]> {
    return this.#json("GET", "/api/tasks?limit=500", TaskList);
  }

  getTask(id: string): Promise<Task> {
    return this.#json("GET", `/api/tasks/${encodeURIComponent(id)}`, Task);
  }

  createTask(request: CreateTaskRequest): Promise<Task> {
    return this.#json("POST", "/api/tasks", Task, request);
  }

  executeTask(id: string): Promise<ExecuteResponse> {
    return this.#json("POST", `/api/tasks/${encodeURIComponent(id)}/execute`, ExecuteResponse);
  }

  getRun(id: string): Promise<Run> {
    return this.#json("GET", `/api/runs/${encodeURIComponent(id)}`, Run);
  }

  approvePlan(runId: string, comment?: string): Promise<PlanDecisionResponse> {
    return this.#json("POST", `/api/runs/${encodeURIComponent(runId)}/approve-plan`, PlanDecisionResponse, comment === undefined ? {} : { comment }, this.#actorHeaders());
  }

  rejectPlan(runId: string, reason: string): Promise<PlanDecisionResponse> {
    return this.#json("POST", `/api/runs/${encodeURIComponent(runId)}/reject-plan`, PlanDecisionResponse, { reason }, this.#actorHeaders());
  }

  /** The plan quorum of a run (404 NOT_FOUND while its repository has none or nobody voted). */
  planVotes(runId: string): Promise<PlanQuorumStatus> {
    return this.#json("GET", `/api/runs/${encodeURIComponent(runId)}/plan-votes`, PlanQuorumStatus);
  }

  cancelRun(runId: string): Promise<Run> {
    return this.#json("POST", `/api/runs/${encodeURIComponent(runId)}/cancel`, Run);
  }

  runSessions(runId: string): Promise<RunSession[]> {
    return this.#json("GET", `/api/runs/${encodeURIComponent(runId)}/sessions`, RunSessionList).then((list) => list.sessions);
  }

  sessionActivity(sessionId: string, after = 0): Promise<ActivityItem[]> {
    return this.#json("GET", `/api/sessions/${encodeURIComponent(sessionId)}/activity?after=${after}`, ActivityList);
  }

  /** An artifact of the run, by its name in the run's artifact list. */
  async artifactText(runId: string, name: string): Promise<string> {
    const response = await this.#fetch("GET", `/api/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(name)}`);
    return response.text();
  }

  listApprovals(filter: { status?: ApprovalStatusFilter; runId?: string; limit?: number } = {}): Promise<Approval[]> {
    const query = new URLSearchParams();
    if (filter.status !== undefined) query.set("status", filter.status);
    if (filter.runId !== undefined) query.set("runId", filter.runId);
    if (filter.limit !== undefined) query.set("limit", String(filter.limit));
    return this.#json("GET", `/api/approvals?${query.toString()}`, ApprovalList).then((list) => list.approvals);
  }

  getApproval(id: string): Promise<Approval> {
    return this.#json("GET", `/api/approvals/${encodeURIComponent(id)}`, Approval);
  }

  answerApproval(id: string, answer: AnswerApprovalRequest): Promise<Approval> {
    return this.#json("POST", `/api/approvals/${encodeURIComponent(id)}`, Approval, answer, this.#actorHeaders());
  }

  /** Headers of every request, the event stream's included. */
  headers(): Record<string, string> {
    return { authorization: `Bearer ${this.#token}` };
  }

  /** The name that decides, only on the decision calls. */
  #actorHeaders(): Record<string, string> {
    const actor = this.#actor();
    return actor === undefined ? {} : { [ACTOR_HEADER]: actor };
  }

  async #json<T>(method: "GET" | "POST", path: string, schema: Schema<T>, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const response = await this.#fetch(method, path, body, extraHeaders);
    const raw: unknown = await response.json().catch(() => undefined);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new ApiFailure(response.status, "INVALID_RESPONSE", `${method} ${path}: the answer is not what the board expects (${parsed.error.message.slice(0, 300)})`);
    return parsed.data;
  }

  async #fetch(method: "GET" | "POST", path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { ...extraHeaders, ...this.headers(), accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      throw new ApiFailure(0, timedOut ? "HTTP_TIMEOUT" : "SERVER_UNREACHABLE", timedOut ? `${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : "kodo is not reachable: is `kodo serve` still running?");
    }
    if (response.ok) return response;
    const raw: unknown = await response.json().catch(() => undefined);
    const parsed = ApiError.safeParse(raw);
    if (response.status === 401) this.#onUnauthorized();
    if (parsed.success) throw new ApiFailure(response.status, parsed.data.error.code, parsed.data.error.message, parsed.data.error.details);
    throw new ApiFailure(response.status, `HTTP_${response.status}`, `${method} ${path} answered HTTP ${response.status}`);
  }
}

/** A failure as one line for people. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiFailure) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
