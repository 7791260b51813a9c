/**
 * A typed client of the kodo HTTP API. Every request has a deadline; every answer is parsed
 * with the schema from @kodo/contracts; every failure becomes a CliError with a stable code:
 * the server's own code for API errors, else SERVER_NOT_RUNNING, SERVER_UNREACHABLE,
 * HTTP_TIMEOUT, INVALID_RESPONSE or INTERRUPTED.
 */
import {
  ActiveGovernance,
  ActivityItem,
  ApiError,
  Approval,
  type AnswerApprovalRequest,
  type ApprovalStatusFilter,
  ExecuteResponse,
  Governance,
  PlanDecisionResponse,
  Proposal,
  RepoSettings,
  Run,
  StoredEvent,
  Task,
  type CreateProposalRequest,
  type CreateTaskRequest,
  type ProposalStatus,
  type PutGovernanceRequest,
  type VoteRequest,
  type TaskStatus,
  type TestRunner,
} from "@kodo/contracts";
import { CliError, ExitCode, exitCodeForStatus } from "./errors.js";
import { readEventStream, SseHttpError, SseTimeoutError, type SseFrame } from "./sse-reader.js";

/** What the client needs of a schema: zod's `safeParse`. */
interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { message: string } };
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:7433 (no trailing slash needed) */
  baseUrl: string;
  /** where the URL came from, for messages ("--url", "KODO_URL", a server.json path) */
  source?: string;
  /** deadline of one request, connect to last byte; default 10 s */
  timeoutMs?: number;
  /** Ctrl-C: aborts requests and ends event streams */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** the API token (`Authorization: Bearer …` on every request, event streams included) */
  token?: string;
  /** `X-Kodo-Actor` on every request: the approver this client speaks for (declared, not authenticated) */
  actor?: string;
}

export interface EventStreamOptions {
  /** resume after this event id; without it the stream starts at the server's current end */
  lastEventId?: number;
  idleTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxAttempts?: number;
}

export type EventItem =
  /** a connection is open: a good moment to reconcile with GET (nothing after it is missed) */
  | { type: "open"; connection: number }
  | { type: "event"; event: StoredEvent }
  | { type: "reconnecting"; attempt: number; delayMs: number; reason: string };

const ACTIVITY_PAGE_LIMIT = 1_000;

export class KodoClient {
  readonly baseUrl: string;
  readonly #source: string;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#source = options.source ?? "--url";
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#signal = options.signal;
    const base = options.fetch ?? fetch;
    const token = options.token;
    const actor = options.actor;
    this.#fetch =
      token === undefined && actor === undefined
        ? base
        : (input, init) => {
            const headers = new Headers(init?.headers);
            if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
            if (actor !== undefined) headers.set("x-kodo-actor", actor);
            return base(input, { ...init, headers });
          };
  }

  createTask(request: CreateTaskRequest): Promise<Task> {
    return this.#request("POST", "/api/tasks", Task, request);
  }

  listTasks(filter: { status?: TaskStatus; limit?: number } = {}): Promise<Task[]> {
    const query = new URLSearchParams();
    if (filter.status !== undefined) query.set("status", filter.status);
    if (filter.limit !== undefined) query.set("limit", String(filter.limit));
    const suffix = query.size === 0 ? "" : `?${query.toString()}`;
    return this.#request("GET", `/api/tasks${suffix}`, TaskList);
  }

  getTask(taskId: string): Promise<Task> {
    return this.#request("GET", `/api/tasks/${encodeURIComponent(taskId)}`, Task);
  }

  executeTask(taskId: string): Promise<ExecuteResponse> {
    return this.#request("POST", `/api/tasks/${encodeURIComponent(taskId)}/execute`, ExecuteResponse);
  }

  getRun(runId: string): Promise<Run> {
    return this.#request("GET", `/api/runs/${encodeURIComponent(runId)}`, Run);
  }

  /** Under a plan quorum the answer carries `planQuorum` (the votes so far); the plan may still wait. */
  approvePlan(runId: string, comment?: string): Promise<PlanDecisionResponse> {
    return this.#request("POST", `/api/runs/${encodeURIComponent(runId)}/approve-plan`, PlanDecisionResponse, comment === undefined ? undefined : { comment });
  }

  rejectPlan(runId: string, reason: string): Promise<PlanDecisionResponse> {
    return this.#request("POST", `/api/runs/${encodeURIComponent(runId)}/reject-plan`, PlanDecisionResponse, { reason });
  }

  cancelRun(runId: string): Promise<Run> {
    return this.#request("POST", `/api/runs/${encodeURIComponent(runId)}/cancel`, Run);
  }

  listApprovals(filter: { status?: ApprovalStatusFilter; runId?: string } = {}): Promise<Approval[]> {
    const query = new URLSearchParams();
    if (filter.status !== undefined) query.set("status", filter.status);
    if (filter.runId !== undefined) query.set("runId", filter.runId);
    const suffix = query.size === 0 ? "" : `?${query.toString()}`;
    return this.#request("GET", `/api/approvals${suffix}`, ApprovalsList);
  }

  answerApproval(approvalId: string, answer: AnswerApprovalRequest): Promise<Approval> {
    return this.#request("POST", `/api/approvals/${encodeURIComponent(approvalId)}`, Approval, answer);
  }

  sessionActivity(sessionId: string, after = 0): Promise<ActivityItem[]> {
    return this.#request("GET", `/api/sessions/${encodeURIComponent(sessionId)}/activity?after=${after}`, ActivityList);
  }

  /** Every activity item of a session, following `after` page by page (bounded). */
  repoSettings(repoPath: string): Promise<RepoSettings> {
    return this.#request("GET", `/api/repos/settings?repoPath=${encodeURIComponent(repoPath)}`, RepoSettings);
  }

  putRepoSettings(settings: { repoPath: string; testRoots: string[]; runner?: TestRunner }): Promise<RepoSettings> {
    return this.#request("PUT", "/api/repos/settings", RepoSettings, settings);
  }

  governance(repoPath: string): Promise<Governance> {
    return this.#request("GET", `/api/repos/governance?repoPath=${encodeURIComponent(repoPath)}`, Governance);
  }

  putGovernance(request: PutGovernanceRequest): Promise<Governance> {
    return this.#request("PUT", "/api/repos/governance", Governance, request);
  }

  activeGovernance(repoPath: string): Promise<ActiveGovernance> {
    return this.#request("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`, ActiveGovernance);
  }

  createProposal(request: CreateProposalRequest): Promise<Proposal> {
    return this.#request("POST", "/api/proposals", Proposal, request);
  }

  listProposals(filter: { repoPath?: string; status?: ProposalStatus } = {}): Promise<Proposal[]> {
    const query = new URLSearchParams();
    if (filter.repoPath !== undefined) query.set("repoPath", filter.repoPath);
    if (filter.status !== undefined) query.set("status", filter.status);
    return this.#request("GET", `/api/proposals${query.size === 0 ? "" : `?${query.toString()}`}`, ProposalList);
  }

  getProposal(proposalId: string): Promise<Proposal> {
    return this.#request("GET", `/api/proposals/${encodeURIComponent(proposalId)}`, Proposal);
  }

  vote(proposalId: string, request: VoteRequest): Promise<Proposal> {
    return this.#request("POST", `/api/proposals/${encodeURIComponent(proposalId)}/votes`, Proposal, request);
  }

  async allSessionActivity(sessionId: string): Promise<ActivityItem[]> {
    const all: ActivityItem[] = [];
    let after = 0;
    for (let page = 0; page < ACTIVITY_PAGE_LIMIT; page += 1) {
      const items = await this.sessionActivity(sessionId, after);
      const last = items.at(-1);
      if (last === undefined || last.seq <= after) break;
      all.push(...items);
      after = last.seq;
    }
    return all;
  }

  /**
   * `GET /api/events` as parsed events, in order and each once: reconnects with `Last-Event-ID`
   * (see sse-reader.ts) and drops anything at or below the last id it yielded. Frames that are
   * not events (the server's `ready`) and events of types this CLI does not know are skipped.
   */
  async *events(filter: { taskId?: string; runId?: string }, options: EventStreamOptions = {}): AsyncGenerator<EventItem, void, undefined> {
    const url = new URL(`${this.baseUrl}/api/events`);
    if (filter.taskId !== undefined) url.searchParams.set("taskId", filter.taskId);
    if (filter.runId !== undefined) url.searchParams.set("runId", filter.runId);
    let lastSeen = options.lastEventId ?? -1;
    const stream = readEventStream({
      url: url.href,
      fetch: this.#fetch,
      connectTimeoutMs: this.#timeoutMs,
      resumeFrom: readyPosition,
      ...(options.lastEventId === undefined ? {} : { lastEventId: String(options.lastEventId) }),
      ...(this.#signal === undefined ? {} : { signal: this.#signal }),
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      ...(options.initialBackoffMs === undefined ? {} : { initialBackoffMs: options.initialBackoffMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    });
    try {
      for await (const item of stream) {
        if (item.type === "open") {
          yield item;
        } else if (item.type === "reconnecting") {
          yield { type: "reconnecting", attempt: item.attempt, delayMs: item.delayMs, reason: this.#toError(item.error, "GET /api/events").message };
        } else {
          const event = parseStoredEvent(item.frame);
          if (event === undefined || event.id <= lastSeen) continue;
          lastSeen = event.id;
          yield { type: "event", event };
        }
      }
    } catch (error) {
      throw this.#toError(error, "GET /api/events");
    }
  }

  async #request<T>(method: "GET" | "POST" | "PUT", path: string, schema: Schema<T>, body?: unknown): Promise<T> {
    const what = `${method} ${path}`;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = this.#signal === undefined ? timeout : AbortSignal.any([timeout, this.#signal]);
    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw this.#toError(error, what, timeout);
    }
    if (status >= 400) throw errorFromResponse(status, text, what);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError("INVALID_RESPONSE", `${what}: the answer of ${this.baseUrl} is not JSON (is it a kodo server?)`, ExitCode.unavailable);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CliError("INVALID_RESPONSE", `${what}: unexpected answer from ${this.baseUrl}: ${parsed.error.message}`, ExitCode.unavailable);
    }
    return parsed.data;
  }

  /** A failure to talk to the server (not an HTTP error answer) as a CliError. */
  #toError(error: unknown, what: string, timeout?: AbortSignal): CliError {
    if (error instanceof CliError) return error;
    if (error instanceof SseHttpError) return errorFromResponse(error.status, error.body, what);
    if (this.#signal?.aborted === true) return new CliError("INTERRUPTED", "interrupted", ExitCode.interrupted, { cause: error });
    if (error instanceof SseTimeoutError) return new CliError("HTTP_TIMEOUT", `${what}: ${error.message}`, ExitCode.unavailable, { cause: error });
    if (timeout?.aborted === true || (error instanceof Error && error.name === "TimeoutError")) {
      return new CliError("HTTP_TIMEOUT", `${what}: no answer from ${this.baseUrl} within ${this.#timeoutMs} ms`, ExitCode.unavailable, { cause: error });
    }
    const codes = networkCodes(error);
    if (codes.includes("ECONNREFUSED")) {
      return new CliError(
        "SERVER_NOT_RUNNING",
        `no kodo server at ${this.baseUrl} (from ${this.#source}): connection refused; start it with \`kodo serve\``,
        ExitCode.unavailable,
        { cause: error },
      );
    }
    const detail = codes[0] ?? (error instanceof Error ? error.message : String(error));
    return new CliError("SERVER_UNREACHABLE", `${what}: cannot reach ${this.baseUrl} (from ${this.#source}): ${detail}`, ExitCode.unavailable, {
      cause: error,
    });
  }
}

/** `{ [key]: T[] }` → T[], with the array checked by `items`. */
function listIn<T>(key: string, items: Schema<T[]>): Schema<T[]> {
  return {
    safeParse(value) {
      const list = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
      if (!Array.isArray(list)) return { success: false, error: { message: `expected an object with an array "${key}"` } };
      return items.safeParse(list);
    },
  };
}

const TaskList = listIn("tasks", Task.array());
const ActivityList = listIn("items", ActivityItem.array());
const ProposalList = listIn("proposals", Proposal.array());
const ApprovalsList = listIn("approvals", Approval.array());

/** An HTTP error answer as a CliError: the server's `{error:{code,message}}` when it sent one. */
export function errorFromResponse(status: number, body: string, what: string): CliError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = ApiError.safeParse(json);
  if (parsed.success) {
    const { code, message, details } = parsed.data.error;
    return new CliError(code, message, exitCodeForStatus(status), details === undefined ? {} : { details });
  }
  const snippet = body.trim().slice(0, 200);
  return new CliError(`HTTP_${status}`, `${what} answered HTTP ${status}${snippet === "" ? "" : `: ${snippet}`}`, exitCodeForStatus(status));
}

/** The `code`s (ECONNREFUSED, ENOTFOUND …) anywhere in an error's cause chain. */
function networkCodes(error: unknown): string[] {
  const codes: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 5 || typeof value !== "object" || value === null) return;
    const record = value as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === "string") codes.push(record.code);
    if (Array.isArray(record.errors)) for (const inner of record.errors) visit(inner, depth + 1);
    visit(record.cause, depth + 1);
  };
  visit(error, 0);
  return codes;
}

/** kodo's `ready` frame (`{"lastEventId":N}`, no `id:`) says where the stream resumes. */
function readyPosition(frame: SseFrame): string | undefined {
  if (frame.event !== "ready") return undefined;
  try {
    const data = JSON.parse(frame.data) as { lastEventId?: unknown };
    return typeof data.lastEventId === "number" && Number.isInteger(data.lastEventId) ? String(data.lastEventId) : undefined;
  } catch {
    return undefined;
  }
}

function parseStoredEvent(frame: SseFrame): StoredEvent | undefined {
  if (frame.id === undefined) return undefined;
  try {
    const parsed = StoredEvent.safeParse(JSON.parse(frame.data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
