/**
 * Watches one agent turn: no progress of the session for `stallMs` → AGENT_STALLED; the whole turn
 * longer than `timeoutMs` → DEADLINE_EXCEEDED. Progress is any event of the session on the event
 * stream (deltas included) except OpenCode's own retrying of a failing provider (it retries 5xx
 * for about a minute; that is waiting, not progress). While the stream itself is down progress
 * cannot be judged, so that time does not count as a stall (the overall deadline still holds).
 * Neither does the time a person is being asked about one of the session's tool calls (`waiting`,
 * the permission bridge): that wait is bounded by the approval's own deadline.
 */
import { KodoError } from "../lib/errors.js";
import { eventSessionId, type AgentEvent } from "./event-types.js";
import type { AgentEventStream } from "./events.js";

export interface TurnWatch {
  /** aborted with the KodoError that ended the turn */
  readonly signal: AbortSignal;
  /** the stall or deadline error, once one fired */
  readonly failure: KodoError | undefined;
  readonly lastProgressAt: number;
  dispose(): void;
}

/**
 * Tells progress from OpenCode retrying a failing model call. While retrying it emits
 * `session.status` retry, then busy when it tries again, then retry… (seen on 1.18.33): neither
 * counts until something else of the session happens.
 */
export function progressJudge(): (event: AgentEvent) => boolean {
  let retrying = false;
  return (event) => {
    if (event.type === "session.status") {
      if (event.status === "retry") retrying = true;
      return !retrying && event.status !== "retry";
    }
    if (event.type === "part.updated" && event.partType === "retry") return false;
    retrying = false;
    return true;
  };
}

/** While a person is being asked, the stall check looks this often, so progress is never judged on stale time. */
const WAITING_CHECK_MS = 1_000;

export function watchTurn(options: {
  events: AgentEventStream;
  sessionId: string;
  stallMs: number;
  timeoutMs: number;
  /** true while the session waits for a person's answer (not a stall) */
  waiting?: (sessionId: string) => boolean;
}): TurnWatch {
  const { events, sessionId, stallMs, timeoutMs } = options;
  const controller = new AbortController();
  const startedAt = performance.now();
  let lastProgressAt = startedAt;
  let failure: KodoError | undefined;
  let stallTimer: NodeJS.Timeout | undefined;

  const fail = (error: KodoError): void => {
    if (failure !== undefined) return;
    failure = error;
    controller.abort(error);
  };

  const isProgress = progressJudge();
  const unsubscribe = events.subscribe((event) => {
    if (eventSessionId(event) === sessionId && isProgress(event)) lastProgressAt = performance.now();
  });

  const checkStall = (): void => {
    const now = performance.now();
    if (!events.connected) lastProgressAt = now;
    if (options.waiting?.(sessionId) === true) {
      lastProgressAt = now;
      stallTimer = setTimeout(checkStall, Math.min(stallMs, WAITING_CHECK_MS));
      return;
    }
    const idle = now - lastProgressAt;
    if (idle >= stallMs) {
      fail(
        new KodoError("AGENT_STALLED", `session ${sessionId} made no progress for ${Math.round(idle)} ms (stall limit ${stallMs} ms)`, {
          retryable: false,
          details: { sessionId, stallMs, idleMs: Math.round(idle), elapsedMs: Math.round(now - startedAt) },
        }),
      );
      return;
    }
    stallTimer = setTimeout(checkStall, stallMs - idle + 1);
  };
  stallTimer = setTimeout(checkStall, stallMs);
  const deadlineTimer = setTimeout(() => {
    fail(
      new KodoError("DEADLINE_EXCEEDED", `session ${sessionId}: the turn did not finish within ${timeoutMs} ms`, {
        retryable: false,
        details: { sessionId, timeoutMs },
      }),
    );
  }, timeoutMs);

  return {
    signal: controller.signal,
    get failure() {
      return failure;
    },
    get lastProgressAt() {
      return lastProgressAt;
    },
    dispose() {
      if (stallTimer !== undefined) clearTimeout(stallTimer);
      clearTimeout(deadlineTimer);
      unsubscribe();
    },
  };
}
