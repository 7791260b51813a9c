import type { PoolClient, Pool } from "pg";
import { KodoEvent, type StoredEvent } from "@kodo/contracts";

export const EVENTS_CHANNEL = "kodo_events";
const EVENTS_LOCK = 0x6b6f646f; // "kodo"

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

function sessionOf(event: KodoEvent): string | null {
  return "sessionId" in event ? event.sessionId : null;
}
function runOf(event: KodoEvent): string | null {
  return "runId" in event ? event.runId : null;
}
function taskOf(event: KodoEvent): string | null {
  return "taskId" in event ? event.taskId : null;
}

/** Appends an event to the log and notifies listeners (the NOTIFY is delivered on commit). */
export async function appendEvent(db: Queryable, event: KodoEvent): Promise<number> {
  const parsed = KodoEvent.parse(event);
  // Serialize event writers until commit, so ids become visible in id order and a reader that
  // resumes "after id N" can never miss an event that commits late with a smaller id.
  await db.query(`SELECT pg_advisory_xact_lock($1)`, [EVENTS_LOCK]);
  const result = await db.query<{ id: string }>(
    `INSERT INTO kodo.events (type, task_id, run_id, session_id, payload) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [parsed.type, taskOf(parsed), runOf(parsed), sessionOf(parsed), JSON.stringify(parsed)],
  );
  const id = Number(result.rows[0]?.id);
  await db.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, String(id)]);
  return id;
}

interface EventRow {
  id: string;
  payload: unknown;
  created_at: Date;
}

function toStored(row: EventRow): StoredEvent {
  return { id: Number(row.id), at: row.created_at.toISOString(), event: KodoEvent.parse(row.payload) };
}

/** Events after `afterId` (exclusive), oldest first. */
export async function eventsAfter(
  db: Queryable,
  afterId: number,
  filter: { taskId?: string; runId?: string; limit?: number } = {},
): Promise<StoredEvent[]> {
  const result = await db.query<EventRow>(
    `SELECT id, payload, created_at FROM kodo.events
      WHERE id > $1 AND ($2::text IS NULL OR task_id = $2) AND ($3::text IS NULL OR run_id = $3)
      ORDER BY id LIMIT $4`,
    [afterId, filter.taskId ?? null, filter.runId ?? null, filter.limit ?? 1000],
  );
  return result.rows.map(toStored);
}

export async function latestEventId(db: Queryable): Promise<number> {
  const result = await db.query<{ id: string | null }>(`SELECT max(id) AS id FROM kodo.events`);
  return Number(result.rows[0]?.id ?? 0);
}
