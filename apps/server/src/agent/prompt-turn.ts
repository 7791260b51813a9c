/**
 * One agent turn: the blocking `POST /session/{id}/message`, watched for stalls and the overall
 * deadline, then summed up from the session's messages.
 */
import type { AssistantMessage } from "@opencode-ai/sdk/v2";
import { KodoError, describeError } from "../lib/errors.js";
import { normalizeError } from "./event-types.js";
import { TIMEOUT_HEADER } from "./http.js";
import type { PromptOptions, PromptResult, RuntimeServer } from "./runtime.js";
import { unwrap } from "./sdk-call.js";
import { addTokens, normalizeMessage, textOf, ZERO_TOKENS, type TokenUsage } from "./session-messages.js";
import { watchTurn } from "./turn-watch.js";
import { watchBudget } from "./budget-watch.js";

const ABORT_TIMEOUT_MS = 5_000;
/** margin between our deadline and the HTTP call's own timeout, so ours fires first */
const HTTP_MARGIN_MS = 10_000;

/** OpenCode's error names after which trying the same turn again can help. */
const RETRYABLE_ERRORS = new Set(["MessageAbortedError"]);

function retryable(info: AssistantMessage): boolean {
  const error = info.error;
  if (error === undefined) return false;
  if (error.name === "APIError") return error.data.isRetryable;
  return RETRYABLE_ERRORS.has(error.name);
}

/** Aborts the session (bounded); reports how it went rather than throwing. */
async function abortSession(server: RuntimeServer, sessionId: string, directory: string): Promise<{ aborted: boolean; abortMs: number; abortError?: string }> {
  const startedAt = performance.now();
  try {
    await unwrap(
      `POST /session/${sessionId}/abort`,
      server.client().session.abort({ sessionID: sessionId, directory }, { headers: { [TIMEOUT_HEADER]: String(ABORT_TIMEOUT_MS) } }),
    );
    return { aborted: true, abortMs: Math.round(performance.now() - startedAt) };
  } catch (error) {
    return { aborted: false, abortMs: Math.round(performance.now() - startedAt), abortError: describeError(error) };
  }
}

/** Tokens and cost of every assistant message answering `userMessageId`; the final one alone if that fails. */
async function turnTotals(
  server: RuntimeServer,
  o: PromptOptions,
  info: AssistantMessage,
): Promise<{ tokens: TokenUsage; cost: number }> {
  const own = normalizeMessage({ info, parts: [] });
  try {
    const list = await unwrap(`GET /session/${o.sessionId}/message`, server.client().session.messages({ sessionID: o.sessionId, directory: o.directory }));
    const turn = list.map(normalizeMessage).filter((message) => message.role === "assistant" && message.parentId === info.parentID);
    if (!turn.some((message) => message.id === info.id)) return { tokens: own.tokens, cost: own.cost };
    return {
      tokens: turn.reduce((sum, message) => addTokens(sum, message.tokens), { ...ZERO_TOKENS }),
      cost: turn.reduce((sum, message) => sum + message.cost, 0),
    };
  } catch {
    return { tokens: own.tokens, cost: own.cost };
  }
}

export async function runPrompt(server: RuntimeServer, o: PromptOptions, waiting?: (sessionId: string) => boolean): Promise<PromptResult> {
  if (!(o.stallMs > 0) || !(o.timeoutMs > 0)) {
    throw new KodoError("BAD_REQUEST", `prompt needs positive stallMs and timeoutMs (got ${o.stallMs}, ${o.timeoutMs})`);
  }
  const startedAt = performance.now();
  const watch = watchTurn({ events: server.events, sessionId: o.sessionId, stallMs: o.stallMs, timeoutMs: o.timeoutMs, ...(waiting === undefined ? {} : { waiting }) });
  const budget = watchBudget({ events: server.events, sessionId: o.sessionId, check: o.budget });
  const signal = AbortSignal.any([watch.signal, budget.signal]);
  let info: AssistantMessage;
  let text: string;
  try {
    const reply = await unwrap(
      `POST /session/${o.sessionId}/message`,
      server.client().session.prompt(
        {
          sessionID: o.sessionId,
          directory: o.directory,
          agent: o.agent,
          parts: [{ type: "text", text: o.text }],
          ...(o.format === undefined ? {} : { format: o.format }),
        },
        { signal, headers: { [TIMEOUT_HEADER]: String(o.timeoutMs + HTTP_MARGIN_MS) } },
      ),
    );
    info = reply.info;
    text = textOf(reply.parts);
  } catch (error) {
    const failure = watch.failure ?? budget.failure;
    if (failure === undefined) throw error;
    // stalled, out of time or over budget: stop the agent before reporting
    const abort = await abortSession(server, o.sessionId, o.directory);
    throw new KodoError(failure.code, failure.message, {
      retryable: failure.retryable,
      details: { ...failure.details, ...abort },
      cause: error,
    });
  } finally {
    watch.dispose();
    budget.dispose();
  }

  const error = normalizeError(info.error);
  if (error !== undefined) {
    throw new KodoError("AGENT_FAILED", `the ${o.agent} agent's turn ended with ${error.name}: ${error.message}`, {
      retryable: retryable(info),
      details: { sessionId: o.sessionId, messageId: info.id, userMessageId: info.parentID, error },
    });
  }
  const totals = await turnTotals(server, o, info);
  return {
    messageId: info.id,
    userMessageId: info.parentID,
    text,
    structured: info.structured,
    finish: info.finish,
    tokens: totals.tokens,
    cost: totals.cost,
    modelId: info.modelID,
    providerId: info.providerID,
    durationMs: Math.round(performance.now() - startedAt),
  };
}
