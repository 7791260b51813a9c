import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Pool } from "pg";
import type { StoredEvent } from "@kodo/contracts";
import { eventsAfter } from "../store/events.js";
import type { EventHub } from "../service/event-hub.js";

export interface SseOptions {
  heartbeatMs: number;
}

function parseResumePoint(c: Context, hub: EventHub): number | undefined {
  const header = c.req.header("Last-Event-ID");
  const query = c.req.query("since");
  const raw = header ?? query;
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : hub.lastId;
}

/**
 * `GET /api/events`: every event has an `id`; a client that reconnects with `Last-Event-ID`
 * (or `?since=N`) gets everything after N from the log, then the live stream, in order, once.
 * Without a resume point it starts at the current end of the log. Heartbeats keep proxies open.
 */
export function eventStream(c: Context, pool: Pool, hub: EventHub, options: SseOptions): Response {
  const filterTask = c.req.query("taskId");
  const filterRun = c.req.query("runId");
  const matches = (stored: StoredEvent): boolean => {
    const event = stored.event;
    if (filterTask !== undefined && (!("taskId" in event) || event.taskId !== filterTask)) return false;
    if (filterRun !== undefined && (!("runId" in event) || event.runId !== filterRun)) return false;
    return true;
  };
  return streamSSE(c, async (stream) => {
    let lastSent = parseResumePoint(c, hub) ?? hub.lastId;
    const pending: StoredEvent[] = [];
    let replaying = true;
    let wake: (() => void) | undefined;
    const unsubscribe = hub.subscribe((event) => {
      pending.push(event);
      wake?.();
    });
    const send = async (event: StoredEvent): Promise<void> => {
      if (event.id <= lastSent) return;
      lastSent = event.id;
      if (!matches(event)) return;
      await stream.writeSSE({ id: String(event.id), event: event.event.type, data: JSON.stringify(event) });
    };
    stream.onAbort(() => {
      unsubscribe();
      wake?.();
    });
    try {
      await stream.writeSSE({ event: "ready", data: JSON.stringify({ lastEventId: lastSent }) });
      while (replaying && !stream.aborted) {
        const batch = await eventsAfter(pool, lastSent, { limit: 500 });
        for (const event of batch) await send(event);
        replaying = batch.length === 500;
      }
      while (!stream.aborted) {
        while (pending.length > 0 && !stream.aborted) {
          const next = pending.shift();
          if (next !== undefined) await send(next);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.heartbeatMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (pending.length === 0 && !stream.aborted) await stream.write(": heartbeat\n\n");
      }
    } finally {
      unsubscribe();
    }
  });
}
