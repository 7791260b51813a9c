import type { Pool } from "pg";
import type { ModelConfig } from "../config.js";
import { KodoError, describeError, isKodoError } from "../lib/errors.js";
import type { Clock } from "../lib/ports.js";
import { appendEvent } from "../store/events.js";
import { computeOpKey } from "./op-key.js";

export interface Tokens {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

/** What the ledger needs from the agent runtime (OpenCode): send a prompt, read a session back. */
export interface PromptPort {
  prompt(o: {
    sessionId: string;
    directory: string;
    agent: "plan" | "build";
    text: string;
    format?: { type: "json_schema"; schema: Record<string, unknown> };
    stallMs: number;
    timeoutMs: number;
    budget?: (turnTokens: Tokens) => string | undefined;
  }): Promise<{
    messageId: string;
    text: string;
    structured: unknown;
    finish: string | undefined;
    tokens: Tokens;
    modelId: string;
    providerId: string;
  }>;
  messages(o: { sessionId: string; directory: string }): Promise<
    Array<{
      id: string;
      role: string;
      parentId?: string | undefined;
      text: string;
      structured?: unknown;
      completed: boolean;
      finish?: string | undefined;
      error?: unknown;
      tokens: Tokens;
      modelId?: string | undefined;
      providerId?: string | undefined;
    }>
  >;
}

export interface LedgerCall {
  runId: string;
  taskId: string;
  stepId: string;
  agent: "plan" | "build";
  sessionId: string;
  directory: string;
  prompt: string;
  schema?: Record<string, unknown>;
}

export interface LedgerResult {
  opKey: string;
  attempt: number;
  messageId: string;
  text: string;
  structured: unknown;
  finish: string | null;
  tokens: Tokens;
  costUsd: number;
  modelId: string;
  /** where the answer came from: the memory cache, the SQL row, a crashed call's session, or the model */
  source: "l1" | "l2" | "reconciled" | "live";
}

type StoredResponse = Omit<LedgerResult, "opKey" | "attempt" | "source">;

interface LedgerRow {
  op_key: string;
  status: "pending" | "completed" | "failed" | "interrupted";
  response: StoredResponse | null;
  attempt: number;
}

export interface LedgerOptions {
  clock: Clock;
  cost: ModelConfig["cost"];
  stallMs: number;
  timeoutMs: number;
  /** distinct attempts (interrupted or failed calls) before giving up */
  maxAttempts?: number;
  /** entries kept in the in-memory L1 cache */
  cacheSize?: number;
  /** true while the process stops: a call cut off then stays pending, to be reconciled at the next start */
  stopping?: () => boolean;
  /**
   * Asked before every call that would reach the model (never for an answer the ledger has): throws
   * BUDGET_EXCEEDED when the task is over budget, else bounds the turn (time, and tokens as they grow).
   */
  gate?: (call: LedgerCall) => Promise<TurnLimits>;
}

export interface TurnLimits {
  /** the turn's time bound when lower than the ledger's own (a wall-time budget) */
  remainingMs?: number;
  check?: (turnTokens: Tokens) => string | undefined;
}

export function costOf(tokens: Tokens, cost: ModelConfig["cost"]): number {
  const usd =
    (tokens.input * cost.input +
      (tokens.output + tokens.reasoning) * cost.output +
      tokens.cacheRead * cost.cacheRead +
      tokens.cacheWrite * cost.cacheWrite) /
    1_000_000;
  return Math.round(usd * 1_000_000) / 1_000_000;
}

/**
 * The one seam every prompt goes through. A row is written before the call and completed after
 * it; a completed op_key is answered from the ledger (L1 memory, L2 SQL) and never sent again; a
 * row left pending by a crash is reconciled against the session's messages before anything is
 * re-sent. Each interrupted or failed call moves on to the next attempt number (a new op_key).
 */
export class ModelLedger {
  readonly #pool: Pool;
  readonly #agent: PromptPort;
  readonly #options: Required<LedgerOptions>;
  readonly #cache = new Map<string, StoredResponse & { attempt: number }>();

  constructor(pool: Pool, agent: PromptPort, options: LedgerOptions) {
    this.#pool = pool;
    this.#agent = agent;
    this.#options = { maxAttempts: 5, cacheSize: 1000, stopping: () => false, gate: async () => ({}), ...options };
  }

  async call(call: LedgerCall): Promise<LedgerResult> {
    for (let attempt = 1; attempt <= this.#options.maxAttempts; attempt += 1) {
      const opKey = computeOpKey({ runId: call.runId, stepId: call.stepId, attempt, prompt: call.prompt, schema: call.schema });
      const cached = this.#cache.get(opKey);
      if (cached !== undefined) return { ...cached, opKey, source: "l1" };

      const row = await this.#find(opKey);
      if (row?.status === "completed" && row.response !== null) {
        this.#remember(opKey, row.response, attempt);
        return { ...row.response, opKey, attempt, source: "l2" };
      }
      if (row?.status === "pending") {
        const reconciled = await this.#reconcile(call);
        if (reconciled !== undefined) {
          await this.#complete(opKey, attempt, call, reconciled, null);
          return { ...reconciled, opKey, attempt, source: "reconciled" };
        }
        await this.#pool.query(`UPDATE kodo.model_calls SET status = 'interrupted', completed_at = $2 WHERE op_key = $1 AND status = 'pending'`, [
          opKey,
          this.#options.clock.now(),
        ]);
        continue;
      }
      if (row !== undefined) continue; // failed or interrupted: this attempt is spent

      // Over budget: nothing is recorded and nothing is sent.
      const limits = await this.#options.gate(call);
      const inserted = await this.#pool.query(
        `INSERT INTO kodo.model_calls (op_key, run_id, task_id, step_id, attempt, agent, session_id, status, request, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) ON CONFLICT (op_key) DO NOTHING RETURNING id`,
        [
          opKey,
          call.runId,
          call.taskId,
          call.stepId,
          attempt,
          call.agent,
          call.sessionId,
          JSON.stringify({ agent: call.agent, prompt: call.prompt, schema: call.schema ?? null, sessionId: call.sessionId, directory: call.directory }),
          this.#options.clock.now(),
        ],
      );
      if (inserted.rowCount !== 1) {
        throw new KodoError("LEDGER_CONFLICT", `model call ${opKey} is being made by another process`, { retryable: true });
      }
      return this.#send(opKey, attempt, call, limits);
    }
    throw new KodoError("MODEL_CALL_FAILED", `step ${call.stepId} of run ${call.runId}: ${this.#options.maxAttempts} model call attempts were interrupted or failed`);
  }

  async #send(opKey: string, attempt: number, call: LedgerCall, limits: TurnLimits): Promise<LedgerResult> {
    const started = performance.now();
    const budgetBound = limits.remainingMs !== undefined && limits.remainingMs < this.#options.timeoutMs;
    try {
      if (budgetBound && limits.remainingMs !== undefined && limits.remainingMs <= 0) {
        throw new KodoError("BUDGET_EXCEEDED", "the run's wall-time budget is spent", { retryable: false });
      }
      const result = await this.#agent.prompt({
        sessionId: call.sessionId,
        directory: call.directory,
        agent: call.agent,
        text: call.prompt,
        ...(call.schema === undefined ? {} : { format: { type: "json_schema" as const, schema: call.schema } }),
        stallMs: this.#options.stallMs,
        timeoutMs: budgetBound && limits.remainingMs !== undefined ? limits.remainingMs : this.#options.timeoutMs,
        ...(limits.check === undefined ? {} : { budget: limits.check }),
      });
      const response: StoredResponse = {
        messageId: result.messageId,
        text: result.text,
        structured: result.structured ?? null,
        finish: result.finish ?? null,
        tokens: result.tokens,
        costUsd: costOf(result.tokens, this.#options.cost),
        modelId: `${result.providerId}/${result.modelId}`,
      };
      await this.#complete(opKey, attempt, call, response, Math.round(performance.now() - started));
      return { ...response, opKey, attempt, source: "live" };
    } catch (caught) {
      if (this.#options.stopping()) {
        throw new KodoError("INTERRUPTED", `kodo is stopping: model call ${opKey} stays pending and is reconciled at the next start`, { retryable: true, cause: caught });
      }
      // A deadline that was the wall-time budget (not the ledger's own bound) is the budget's.
      const error =
        budgetBound && isKodoError(caught) && caught.code === "DEADLINE_EXCEEDED"
          ? new KodoError("BUDGET_EXCEEDED", `the run's wall-time budget ran out during a model call (${caught.message})`, { retryable: false, cause: caught })
          : caught;
      const details = isKodoError(error) ? error.toJSON() : { code: "MODEL_CALL_FAILED", message: describeError(error) };
      await this.#pool.query(
        `UPDATE kodo.model_calls SET status = 'failed', error = $2, duration_ms = $3, completed_at = $4 WHERE op_key = $1`,
        [opKey, JSON.stringify(details), Math.round(performance.now() - started), this.#options.clock.now()],
      );
      throw error;
    }
  }

  async #reconcile(call: LedgerCall): Promise<StoredResponse | undefined> {
    const messages = await this.#agent.messages({ sessionId: call.sessionId, directory: call.directory });
    const user = [...messages].reverse().find((message) => message.role === "user" && message.text.trim() === call.prompt.trim());
    if (user === undefined) return undefined;
    const answers = messages.filter((message) => message.role === "assistant" && message.parentId === user.id);
    const last = answers.at(-1);
    if (last === undefined || !last.completed || last.error !== undefined) return undefined;
    const structured = last.structured ?? null;
    if (call.schema !== undefined && structured === null) return undefined;
    if (call.schema === undefined && last.finish === "tool-calls") return undefined;
    const tokens = answers.reduce<Tokens>(
      (sum, message) => ({
        input: sum.input + message.tokens.input,
        output: sum.output + message.tokens.output,
        reasoning: sum.reasoning + message.tokens.reasoning,
        cacheRead: sum.cacheRead + message.tokens.cacheRead,
        cacheWrite: sum.cacheWrite + message.tokens.cacheWrite,
      }),
      { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    );
    return {
      messageId: last.id,
      text: last.text,
      structured,
      finish: last.finish ?? null,
      tokens,
      costUsd: costOf(tokens, this.#options.cost),
      modelId: `${last.providerId ?? "unknown"}/${last.modelId ?? "unknown"}`,
    };
  }

  async #find(opKey: string): Promise<LedgerRow | undefined> {
    const result = await this.#pool.query<LedgerRow>(`SELECT op_key, status, response, attempt FROM kodo.model_calls WHERE op_key = $1`, [opKey]);
    return result.rows[0];
  }

  async #complete(opKey: string, attempt: number, call: LedgerCall, response: StoredResponse, durationMs: number | null): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `UPDATE kodo.model_calls SET status = 'completed', response = $2, model_id = $3, tokens_input = $4, tokens_output = $5,
                tokens_reasoning = $6, tokens_cache_read = $7, tokens_cache_write = $8, cost_usd = $9,
                duration_ms = coalesce($10, duration_ms), completed_at = $11
          WHERE op_key = $1`,
        [
          opKey,
          JSON.stringify(response),
          response.modelId,
          response.tokens.input,
          response.tokens.output,
          response.tokens.reasoning,
          response.tokens.cacheRead,
          response.tokens.cacheWrite,
          response.costUsd,
          durationMs,
          this.#options.clock.now(),
        ],
      );
      await appendEvent(client, {
        type: "model.call_completed",
        taskId: call.taskId,
        runId: call.runId,
        stepId: call.stepId,
        opKey,
        tokensInput: response.tokens.input,
        tokensOutput: response.tokens.output,
        costUsd: response.costUsd,
      });
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    this.#remember(opKey, response, attempt);
  }

  #remember(opKey: string, response: StoredResponse, attempt: number): void {
    if (this.#cache.size >= this.#options.cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(opKey, { ...response, attempt });
  }
}
