/**
 * Follows one run on the event stream until its status satisfies `until`. Reconnects are the
 * client's business (Last-Event-ID); this decides when to stop. When not replaying from the
 * start, it reconciles once with GET /api/runs/:id right after the first connection opens, so
 * a run that moved on before the stream was open is not waited on forever.
 */
import type { StoredEvent, TaskStatus } from "@kodo/contracts";
import type { KodoClient } from "./client.js";

export interface FollowRunOptions {
  runId: string;
  /** stop once the run's status satisfies this */
  until: (status: TaskStatus) => boolean;
  /** replay the run's events from the beginning of the event log (else: from now on) */
  fromStart: boolean;
  onEvent: (event: StoredEvent) => void;
  onReconnecting?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  /** passed to the event stream (tests use short ones) */
  stream?: { idleTimeoutMs?: number; initialBackoffMs?: number; maxBackoffMs?: number; maxAttempts?: number };
}

/** The status that ended the wait, or undefined when the stream ended first (Ctrl-C). */
export async function followRun(client: KodoClient, options: FollowRunOptions): Promise<TaskStatus | undefined> {
  const { runId, until } = options;
  const events = client.events({ runId }, { ...options.stream, ...(options.fromStart ? { lastEventId: 0 } : {}) });
  for await (const item of events) {
    switch (item.type) {
      case "open":
        if (!options.fromStart && item.connection === 1) {
          const run = await client.getRun(runId);
          if (until(run.status)) return run.status;
        }
        break;
      case "event": {
        options.onEvent(item.event);
        const event = item.event.event;
        if (event.type === "task.status_changed" && event.runId === runId && until(event.to)) return event.to;
        break;
      }
      case "reconnecting":
        options.onReconnecting?.(item);
        break;
    }
  }
  return undefined;
}
