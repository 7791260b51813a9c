/**
 * Runs against their DBOS workflows: application versions no worker serves, and runs in flight that
 * nothing moves. Only in-flight rows are read (partial indexes on both sides), so the cost does not
 * grow with history.
 */
import { RUN_QUEUE } from "../../workflow/runtime.js";
import type { DoctorContext } from "../context.js";
import { fail, pass, warn, type Finding } from "../types.js";
import { usingDatabase } from "./database.js";

/** The version in-flight workflows must carry: the running kodo's (it enqueues and serves with it), else this environment's. */
async function expectedVersion(context: DoctorContext): Promise<{ version: string; source: string; running: boolean }> {
  const kodo = await context.kodo();
  if (kodo.state === "alive" && kodo.health !== undefined) return { version: kodo.health.version, source: `the running kodo (pid ${kodo.server.pid})`, running: true };
  return { version: context.config.applicationVersion, source: "this environment (KODO_APP_VERSION or the default)", running: false };
}

interface InFlightVersion {
  version: string | null;
  status: string;
  n: number;
  sample: string[];
}

export async function checkApplicationVersion(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "DBOS application versions", async (db) => {
    const expected = await expectedVersion(context);
    const rows = (
      await db.query<InFlightVersion>(
        `SELECT application_version AS version, status, count(*)::int AS n, (array_agg(workflow_uuid ORDER BY created_at))[1:5] AS sample
           FROM dbos.workflow_status WHERE status IN ('ENQUEUED', 'PENDING') GROUP BY application_version, status ORDER BY 1, 2`,
      )
    ).rows;
    const foreign = rows.filter((row) => row.version !== null && row.version !== expected.version);
    const total = rows.reduce((sum, row) => sum + row.n, 0);
    const details = { expected: expected.version, expectedFrom: expected.source, build: context.config.applicationVersion, inFlight: rows };
    if (foreign.length > 0) {
      const versions = [...new Set(foreign.map((row) => row.version ?? ""))];
      const counts = foreign.map((row) => `${row.n} ${row.status} of ${JSON.stringify(row.version)}`).join(", ");
      return fail(
        `in-flight workflows carry another application version than ${JSON.stringify(expected.version)} (${expected.source}): ${counts}. ` +
          `DBOS dequeues and recovers only workflows of its own version, so these never run`,
        `give every process of one release the same KODO_APP_VERSION; to finish these, run a worker with KODO_APP_VERSION=${versions[0] ?? "?"} until they are done, or cancel their runs (kodo task cancel)`,
        details,
      );
    }
    if (expected.running && expected.version !== context.config.applicationVersion) {
      return warn(
        `the running kodo is version ${JSON.stringify(expected.version)} but this environment says ${JSON.stringify(context.config.applicationVersion)}: a process started from here would not serve its runs`,
        "set one KODO_APP_VERSION for every process of a release",
        details,
      );
    }
    return pass(total === 0 ? `no workflows in flight; this home's version is ${JSON.stringify(expected.version)}` : `all ${total} in-flight workflows carry ${JSON.stringify(expected.version)}`, details);
  });
}

interface ActiveRunRow {
  id: string;
  task_id: string;
  status: string;
  workflow_status: string | null;
  executor_id: string | null;
  application_version: string | null;
  idle_seconds: number;
  waits_for_person: boolean;
}

/** One query: every run kodo calls active, its workflow, and when anything last moved for it. */
export const ACTIVE_RUNS_SQL = `
SELECT r.id, r.task_id, r.status, w.status AS workflow_status, w.executor_id, w.application_version,
       extract(epoch FROM now() - greatest(
         r.updated_at,
         to_timestamp(w.updated_at / 1000.0),
         (SELECT to_timestamp(max(greatest(o.started_at_epoch_ms, o.completed_at_epoch_ms)) / 1000.0)
            FROM dbos.operation_outputs o WHERE o.workflow_uuid = r.workflow_id),
         (SELECT e.created_at FROM kodo.events e WHERE e.run_id = r.id ORDER BY e.id DESC LIMIT 1),
         (SELECT max(a.updated_at) FROM kodo.sessions s JOIN kodo.session_activity a ON a.session_id = s.session_id WHERE s.run_id = r.id),
         (SELECT greatest(m.created_at, m.completed_at) FROM kodo.model_calls m WHERE m.run_id = r.id ORDER BY m.id DESC LIMIT 1)
       ))::float8 AS idle_seconds,
       r.status = 'PlanningReview' OR EXISTS (SELECT 1 FROM kodo.approvals p WHERE p.run_id = r.id AND p.status = 'pending') AS waits_for_person
  FROM kodo.runs r LEFT JOIN dbos.workflow_status w ON w.workflow_uuid = r.workflow_id
 WHERE r.status NOT IN ('Done', 'Failed', 'Rejected', 'Cancelled')
 ORDER BY r.created_at
 LIMIT 500`;

type Problem = { kind: "orphaned" | "ended" | "version" | "no-kodo" | "other-executor" | "idle"; text: string };

const FIXES: Record<Problem["kind"], string> = {
  orphaned: "restart kodo serve: at start its worker ends runs without a live workflow (RUN_ORPHANED, WORKFLOW_ENDED)",
  ended: "restart kodo serve: at start its worker ends runs without a live workflow (RUN_ORPHANED, WORKFLOW_ENDED)",
  version: "see the dbos.version finding",
  "no-kodo": "start kodo serve for this home: its worker recovers the PENDING workflows of its executor id and dequeues the ENQUEUED ones",
  "other-executor": "start a worker with that KODO_EXECUTOR_ID: only the executor that owns a PENDING workflow recovers it",
  idle: "read `kodo logs RUN_ID` and <home>/logs/; if it cannot finish, kodo task cancel TASK_ID",
};

function minutes(seconds: number): string {
  return `${Math.floor(seconds / 60)} min`;
}

async function problemOf(row: ActiveRunRow, context: DoctorContext, expected: string, queueRunning: number): Promise<Problem | undefined> {
  const kodo = await context.kodo();
  const worker = await context.liveWorker();
  const idleMinutes = row.idle_seconds / 60;
  if (row.workflow_status === null) return { kind: "orphaned", text: `${row.id} (${row.status}) has no DBOS workflow` };
  if (!["ENQUEUED", "PENDING", "DELAYED"].includes(row.workflow_status)) {
    return { kind: "ended", text: `${row.id} is ${row.status} but its workflow ended ${row.workflow_status}` };
  }
  if (row.application_version !== null && row.application_version !== expected) {
    return { kind: "version", text: `${row.id}: workflow of version ${JSON.stringify(row.application_version)}, no worker of this home serves it` };
  }
  if (kodo.state !== "alive") {
    return { kind: "no-kodo", text: `${row.id} (${row.status}, workflow ${row.workflow_status}${row.executor_id === null ? "" : ` on executor ${row.executor_id}`}): no kodo runs for this home` };
  }
  if (row.waits_for_person || idleMinutes < context.stuckMinutes) return undefined;
  if (row.workflow_status === "PENDING" && worker?.executorId !== undefined && row.executor_id !== null && row.executor_id !== worker.executorId) {
    return {
      kind: "other-executor",
      text: `${row.id} is PENDING on executor ${row.executor_id}, not this home's worker (${worker.executorId}), and nothing moved for ${minutes(row.idle_seconds)}`,
    };
  }
  const queued = row.workflow_status === "ENQUEUED" ? ` (queued; ${queueRunning} running on ${RUN_QUEUE})` : "";
  return { kind: "idle", text: `${row.id} (${row.status}, workflow ${row.workflow_status}${queued}): nothing moved for ${minutes(row.idle_seconds)}` };
}

export async function checkStuckRuns(context: DoctorContext): Promise<Finding> {
  return usingDatabase(context, "runs in flight", async (db) => {
    const { version } = await expectedVersion(context);
    const rows = (await db.query<ActiveRunRow>(ACTIVE_RUNS_SQL)).rows;
    if (rows.length === 0) return pass("no runs in flight");
    const queueRunning = Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM dbos.workflow_status WHERE queue_name = $1 AND status = 'PENDING'`, [RUN_QUEUE])).rows[0]?.n ?? 0,
    );
    const problems: Problem[] = [];
    const runs = [];
    for (const row of rows) {
      const problem = await problemOf(row, context, version, queueRunning);
      if (problem !== undefined) problems.push(problem);
      runs.push({
        runId: row.id,
        taskId: row.task_id,
        status: row.status,
        workflowStatus: row.workflow_status,
        executorId: row.executor_id,
        applicationVersion: row.application_version,
        idleSeconds: Math.round(row.idle_seconds),
        waitsForPerson: row.waits_for_person,
        problem: problem?.kind ?? null,
      });
    }
    const details = { stuckMinutes: context.stuckMinutes, runs };
    const waiting = rows.filter((row) => row.waits_for_person).length;
    if (problems.length === 0) {
      return pass(`${rows.length} run${rows.length === 1 ? "" : "s"} in flight, none stuck${waiting > 0 ? ` (${waiting} wait for a person)` : ""}`, details);
    }
    const fixes = [...new Set(problems.map((problem) => FIXES[problem.kind]))];
    return fail(`${problems.length} of ${rows.length} runs in flight are stuck: ${problems.map((problem) => problem.text).join("; ")}`, fixes.join("; "), details);
  });
}
