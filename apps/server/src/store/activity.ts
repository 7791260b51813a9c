import type { Pool, PoolClient } from "pg";
import type { ActivityItem } from "@kodo/contracts";
import { appendEvent } from "./events.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

interface ActivityRow {
  seq: string;
  session_id: string;
  item_id: string;
  message_id: string | null;
  kind: string;
  data: Record<string, unknown>;
  updated_at: Date;
}

function toItem(row: ActivityRow): ActivityItem {
  return {
    seq: Number(row.seq),
    sessionId: row.session_id,
    itemId: row.item_id,
    messageId: row.message_id,
    kind: row.kind,
    data: row.data,
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Upserts one activity item (OpenCode repeats updates for the same message/part) and emits it.
 * Unchanged data is not written again, so a replay after a reconnect adds nothing.
 */
export async function upsertActivity(
  db: Queryable,
  item: { sessionId: string; runId: string | null; taskId: string | null; itemId: string; messageId: string | null; kind: string; data: Record<string, unknown> },
): Promise<ActivityItem | undefined> {
  const result = await db.query<ActivityRow>(
    `INSERT INTO kodo.session_activity (session_id, run_id, item_id, message_id, kind, data)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (session_id, item_id) DO UPDATE SET data = EXCLUDED.data, kind = EXCLUDED.kind, updated_at = now()
       WHERE kodo.session_activity.data IS DISTINCT FROM EXCLUDED.data
     RETURNING *`,
    [item.sessionId, item.runId, item.itemId, item.messageId, item.kind, JSON.stringify(item.data)],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  const stored = toItem(row);
  await appendEvent(db, { type: "session.activity", taskId: item.taskId, runId: item.runId, sessionId: item.sessionId, item: stored });
  return stored;
}

export async function listActivity(db: Queryable, sessionId: string, afterSeq: number): Promise<ActivityItem[]> {
  const result = await db.query<ActivityRow>(
    `SELECT * FROM kodo.session_activity WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT 5000`,
    [sessionId, afterSeq],
  );
  return result.rows.map(toItem);
}
