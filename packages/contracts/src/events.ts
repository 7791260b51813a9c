import { z } from "zod";
import { TaskStatus } from "./status.js";
import { ActivityItem } from "./api.js";

/**
 * Every event kodo publishes, one discriminated union: the DB row, the SSE frame and the
 * web board's handler all use this shape. Adding an event means adding a member here.
 */
export const KodoEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("task.created"),
    taskId: z.string(),
    title: z.string(),
  }),
  z.object({
    type: z.literal("task.status_changed"),
    taskId: z.string(),
    runId: z.string().nullable(),
    from: TaskStatus.nullable(),
    to: TaskStatus,
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal("session.started"),
    taskId: z.string(),
    runId: z.string(),
    sessionId: z.string(),
  }),
  z.object({
    type: z.literal("session.activity"),
    taskId: z.string().nullable(),
    runId: z.string().nullable(),
    sessionId: z.string(),
    item: ActivityItem,
  }),
  z.object({
    type: z.literal("plan.decided"),
    taskId: z.string(),
    runId: z.string(),
    decision: z.enum(["approved", "rejected"]),
    reason: z.string().nullable(),
  }),
  z.object({
    type: z.literal("model.call_completed"),
    taskId: z.string(),
    runId: z.string(),
    stepId: z.string(),
    opKey: z.string(),
    tokensInput: z.number().int(),
    tokensOutput: z.number().int(),
    costUsd: z.number(),
  }),
  z.object({
    type: z.literal("run.cancel_requested"),
    taskId: z.string(),
    runId: z.string(),
  }),
]);
export type KodoEvent = z.infer<typeof KodoEvent>;
export type KodoEventType = KodoEvent["type"];

/** An event as stored and streamed: the payload plus its log position. */
export const StoredEvent = z.object({ id: z.number().int(), at: z.string(), event: KodoEvent });
export type StoredEvent = z.infer<typeof StoredEvent>;
