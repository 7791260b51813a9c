/**
 * Watches what one agent turn spends while it runs: OpenCode updates each assistant message's
 * tokens after every model step, so a turn that would go over the run's budget is stopped at the
 * step that crossed it, not after the whole turn (BUDGET_EXCEEDED; the caller aborts the session).
 */
import { KodoError } from "../lib/errors.js";
import type { EventTokens } from "./event-types.js";
import type { AgentEventStream } from "./events.js";

/** Says why the turn's tokens so far are over budget, or undefined while they are not. */
export type TurnBudgetCheck = (turnTokens: EventTokens) => string | undefined;

export interface BudgetWatch {
  readonly signal: AbortSignal;
  readonly failure: KodoError | undefined;
  dispose(): void;
}

const ZERO: EventTokens = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };

export function watchBudget(options: { events: AgentEventStream; sessionId: string; check: TurnBudgetCheck | undefined }): BudgetWatch {
  const controller = new AbortController();
  let failure: KodoError | undefined;
  const { check } = options;
  // Assistant messages of this session seen during the turn (the latest tokens of each).
  const perMessage = new Map<string, EventTokens>();
  const unsubscribe =
    check === undefined
      ? () => undefined
      : options.events.subscribe((event) => {
          if (failure !== undefined || event.type !== "message.updated" || event.sessionId !== options.sessionId) return;
          if (event.role !== "assistant" || event.tokens === undefined) return;
          perMessage.set(event.messageId, event.tokens);
          const total = [...perMessage.values()].reduce(
            (sum, tokens) => ({
              input: sum.input + tokens.input,
              output: sum.output + tokens.output,
              reasoning: sum.reasoning + tokens.reasoning,
              cacheRead: sum.cacheRead + tokens.cacheRead,
              cacheWrite: sum.cacheWrite + tokens.cacheWrite,
            }),
            ZERO,
          );
          const over = check(total);
          if (over === undefined) return;
          failure = new KodoError("BUDGET_EXCEEDED", over, { retryable: false, details: { sessionId: options.sessionId, turnTokens: total } });
          controller.abort(failure);
        });
  return {
    signal: controller.signal,
    get failure() {
      return failure;
    },
    dispose: unsubscribe,
  };
}
