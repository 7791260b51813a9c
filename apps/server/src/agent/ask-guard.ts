/**
 * Headless, an unanswered `ask` hangs a session forever. kodo's rules never say `ask`, but if
 * OpenCode asks anyway (a permission it added, a rule that slipped), this rejects the request at
 * once — the model is told no and the session goes on.
 */
import type { OpencodeClient } from "@opencode-ai/sdk/v2";
import type { AgentEvent } from "./event-types.js";
import type { AgentEventStream } from "./events.js";
import { TIMEOUT_HEADER } from "./http.js";

export const REJECT_MESSAGE = "kodo runs unattended: nobody can answer this request. It is denied; continue without it.";

export interface RejectedAsk {
  kind: "permission" | "question";
  id: string;
  sessionId: string;
  permission?: string;
  patterns?: string[];
  /** undefined when the reject call went through */
  error?: unknown;
}

/** Rejects every permission/question ask on the server; returns the unsubscribe function. */
export function guardAsks(options: {
  events: AgentEventStream;
  client: () => OpencodeClient;
  onRejected?: (ask: RejectedAsk) => void;
}): () => void {
  const timeout = { headers: { [TIMEOUT_HEADER]: "5000" } };
  const reject = async (event: AgentEvent): Promise<void> => {
    if (event.type === "permission.asked") {
      const ask: RejectedAsk = { kind: "permission", id: event.id, sessionId: event.sessionId, permission: event.permission, patterns: event.patterns };
      const result = await options
        .client()
        .permission.reply({ requestID: event.id, reply: "reject", message: REJECT_MESSAGE, ...(event.directory === undefined ? {} : { directory: event.directory }) }, timeout)
        .catch((error: unknown) => ({ error }));
      options.onRejected?.(result.error === undefined ? ask : { ...ask, error: result.error });
    } else if (event.type === "question.asked") {
      const ask: RejectedAsk = { kind: "question", id: event.id, sessionId: event.sessionId };
      const result = await options
        .client()
        .question.reject({ requestID: event.id, ...(event.directory === undefined ? {} : { directory: event.directory }) }, timeout)
        .catch((error: unknown) => ({ error }));
      options.onRejected?.(result.error === undefined ? ask : { ...ask, error: result.error });
    }
  };
  return options.events.subscribe((event) => {
    if (event.type === "permission.asked" || event.type === "question.asked") void reject(event).catch(() => undefined);
  });
}
