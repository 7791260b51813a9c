/**
 * Answers every ask of an OpenCode server at once, with no person and no database: for unattended
 * runs that have nobody to ask (the dogfood suite, `kodo suite run`). The permission bridge
 * (permission-bridge.ts) is the durable version with people and deadlines; this one keeps its
 * answers in memory and hands each to `onAnswer` as evidence.
 *
 * A permission goes to `decide` (the policy): allow → `once`; deny → `reject` with the policy's code
 * and reason (the model is told); a policy `ask` → `reject` (nobody can be asked). A question, or an
 * ask of a session `decide` does not know, is rejected. Every call to OpenCode is bounded.
 */
import { describeError } from "../lib/errors.js";
import type { AgentEvent } from "./event-types.js";
import type { AgentEventStream } from "./events.js";
import { TIMEOUT_HEADER } from "./http.js";
import type { BridgeDecision } from "./permission-bridge.js";
import type { RuntimeServer } from "./runtime.js";
import { unwrap } from "./sdk-call.js";

export interface UnattendedAsk {
  sessionId: string;
  permission: string;
  patterns: readonly string[];
  metadata: Readonly<Record<string, unknown>>;
  directory: string | undefined;
}

/** One answer given, as evidence. */
export interface UnattendedAnswer {
  requestId: string;
  sessionId: string;
  /** null for a question */
  permission: string | null;
  patterns: string[];
  reply: "once" | "reject";
  code: string;
  reason: string;
}

/** The policy's decision, or undefined for a session it does not know (rejected). */
export type DecideUnattended = (ask: UnattendedAsk) => Promise<BridgeDecision | undefined>;

export interface PolicyAnswererOptions {
  server: Pick<RuntimeServer, "client"> & { readonly events: AgentEventStream };
  decide: DecideUnattended;
  onAnswer?: (answer: UnattendedAnswer) => void;
  /** directories whose pending asks are looked up after the event stream reconnects */
  directories?: () => readonly string[];
  /** bound of every call to OpenCode (default 5 s) */
  callTimeoutMs?: number;
  log?: (line: string) => void;
}

type AskEvent = Extract<AgentEvent, { type: "permission.asked" | "question.asked" }>;

const SEEN_LIMIT = 10_000;

export class PolicyAnswerer {
  readonly #options: PolicyAnswererOptions;
  readonly #seen = new Set<string>();
  readonly #inFlight = new Map<string, { sessionId: string; done: Promise<void> }>();
  #unsubscribe: (() => void) | undefined;

  private constructor(options: PolicyAnswererOptions) {
    this.#options = options;
  }

  static start(options: PolicyAnswererOptions): PolicyAnswerer {
    const answerer = new PolicyAnswerer(options);
    answerer.#unsubscribe = options.server.events.subscribe((event) => answerer.#onEvent(event));
    return answerer;
  }

  /** An ask of this session is being decided or answered right now. */
  hasPending(sessionId: string): boolean {
    for (const entry of this.#inFlight.values()) if (entry.sessionId === sessionId) return true;
    return false;
  }

  /** Stops listening and waits for the answers under way. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await Promise.all([...this.#inFlight.values()].map((entry) => entry.done));
  }

  #onEvent(event: AgentEvent): void {
    if (event.type === "reconnected") this.#reconcile();
    if (event.type !== "permission.asked" && event.type !== "question.asked") return;
    if (this.#seen.has(event.id)) return;
    this.#seen.add(event.id);
    if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value ?? "");
    const done = this.#answer(event)
      .catch((error: unknown) => this.#log(`unattended answer to ${event.id} of session ${event.sessionId} failed: ${describeError(error)}`))
      .finally(() => this.#inFlight.delete(event.id));
    this.#inFlight.set(event.id, { sessionId: event.sessionId, done });
  }

  async #answer(event: AskEvent): Promise<void> {
    const { decide, onAnswer } = this.#options;
    let decision: BridgeDecision | undefined;
    if (event.type === "question.asked") {
      decision = { action: "deny", code: "ASK_REQUIRED", reason: "an unattended run has nobody to answer questions", matchedRules: [] };
    } else {
      try {
        decision = await decide({ sessionId: event.sessionId, permission: event.permission, patterns: event.patterns, metadata: event.metadata, directory: event.directory });
      } catch (error) {
        decision = { action: "deny", code: "POLICY_ERROR", reason: `the policy could not decide: ${describeError(error)}`, matchedRules: [] };
      }
      decision ??= { action: "deny", code: "UNKNOWN_SESSION", reason: "not a session of this run", matchedRules: [] };
    }
    const reply = decision.action === "allow" ? "once" : "reject";
    const reason = decision.action === "ask" ? `${decision.reason} (an unattended run has nobody to ask: denied)` : decision.reason;
    const message = reply === "once" ? undefined : `kodo policy denied this (${decision.code}): ${reason}. Continue without it.`;
    const where = event.directory === undefined ? {} : { directory: event.directory };
    const bounded = { headers: { [TIMEOUT_HEADER]: String(this.#options.callTimeoutMs ?? 5_000) } };
    const client = this.#options.server.client();
    if (event.type === "question.asked") {
      await unwrap(`POST /question/${event.id}/reject`, client.question.reject({ requestID: event.id, ...where }, bounded));
    } else {
      await unwrap(`POST /permission/${event.id}/reply`, client.permission.reply({ requestID: event.id, reply, ...(message === undefined ? {} : { message }), ...where }, bounded));
    }
    onAnswer?.({
      requestId: event.id,
      sessionId: event.sessionId,
      permission: event.type === "permission.asked" ? event.permission : null,
      patterns: event.type === "permission.asked" ? [...event.patterns] : [],
      reply,
      code: decision.code,
      reason,
    });
  }

  /** Asks OpenCode holds that the stream may not have shown (it cannot be replayed after a drop). */
  #reconcile(): void {
    const bounded = { headers: { [TIMEOUT_HEADER]: String(this.#options.callTimeoutMs ?? 5_000) } };
    void (async () => {
      for (const directory of this.#options.directories?.() ?? []) {
        const client = this.#options.server.client();
        for (const ask of await unwrap("GET /permission", client.permission.list({ directory }, bounded))) {
          this.#onEvent({ type: "permission.asked", directory, sessionId: ask.sessionID, id: ask.id, permission: ask.permission, patterns: ask.patterns, metadata: ask.metadata });
        }
        for (const ask of await unwrap("GET /question", client.question.list({ directory }, bounded))) {
          this.#onEvent({ type: "question.asked", directory, sessionId: ask.sessionID, id: ask.id, questions: [] });
        }
      }
    })().catch((error: unknown) => this.#log(`reconciling pending asks failed: ${describeError(error)}`));
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}
