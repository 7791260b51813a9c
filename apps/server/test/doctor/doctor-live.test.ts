/**
 * The doctor, the triage SQL of docs/triage.md and GET /metrics against a real `kodo serve` (embedded
 * Postgres, DBOS, a sandboxed OpenCode, the scripted model) that ran a real task to Done; then the
 * same kodo is killed with SIGKILL in the middle of a build, the doctor names the stuck run, and a
 * restarted kodo finishes it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { runDoctor } from "../../src/doctor/run-doctor.js";
import type { DoctorReport } from "../../src/doctor/types.js";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { ok, request, until } from "../support/api.js";
import { makeHome, startKodoProcess, type KodoProcess } from "../support/kodo-process.js";
import { waitUntilGone } from "../support/processes.js";
import { demoScriptWith } from "../support/scripts.js";
import { parseExposition } from "../metrics/exposition-parser.js";
import { check } from "./helpers.js";

const TRIAGE = fileURLToPath(new URL("../../../../docs/triage.md", import.meta.url));

let home: string;
let model: ScriptedModelServer;
let kodo: KodoProcess | undefined;
let env: Record<string, string>;
let firstRun: string;

function doctorEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env };
}

async function runToPlanReview(): Promise<string> {
  const repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
  // the repository's tests run in the Verify step
  await ok(kodo!.url, "PUT", "/api/repos/settings", { repoPath: repo, testRoots: ["test"], runner: "node" });
  const task = await ok<Task>(kodo!.url, "POST", "/api/tasks", { ...DEMO_TASK, repoPath: repo, verify: { target: "test/slugify.test.js", maxAttempts: 1, timeoutSeconds: 60 } });
  const { runId } = await ok<ExecuteResponse>(kodo!.url, "POST", `/api/tasks/${task.id}/execute`);
  await until("PlanningReview", async () => ((await ok<Run>(kodo!.url, "GET", `/api/runs/${runId}`)).status === "PlanningReview" ? true : undefined));
  return runId;
}

async function runEnded(runId: string): Promise<Run> {
  return until(`run ${runId} to end`, async () => {
    const run = await ok<Run>(kodo!.url, "GET", `/api/runs/${runId}`);
    return ["Done", "Failed", "Rejected", "Cancelled"].includes(run.status) ? run : undefined;
  }, 240_000);
}

/** The run is Done once its last status step ran; its DBOS workflow returns right after. */
async function workflowEnded(runId: string): Promise<void> {
  const { databaseUrl } = JSON.parse(readFileSync(path.join(home, "server.json"), "utf8")) as { databaseUrl: string };
  const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await until(`workflow ${runId} to end`, async () => {
      const row = (await db.query<{ status: string }>(`SELECT status FROM dbos.workflow_status WHERE workflow_uuid = $1`, [runId])).rows[0];
      return row?.status === "SUCCESS" ? true : undefined;
    });
  } finally {
    await db.end();
  }
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((found) => [found.id, found.status]));
}

/** The ```sql blocks of docs/triage.md, each named by its first line `-- name: X`. */
function triageQueries(): Map<string, string> {
  const queries = new Map<string, string>();
  for (const match of readFileSync(TRIAGE, "utf8").matchAll(/```sql\n([\s\S]*?)```/g)) {
    const sql = match[1] ?? "";
    const name = /^-- name: (\S+)\n/.exec(sql)?.[1];
    if (name === undefined) throw new Error(`a sql block of docs/triage.md has no "-- name:" line:\n${sql}`);
    if (queries.has(name)) throw new Error(`two sql blocks named ${name}`);
    queries.set(name, sql);
  }
  return queries;
}

beforeAll(async () => {
  home = await makeHome("kodo-doctor-live-");
  // the build's first model answer takes a while: the window in which kodo is killed
  model = await startScriptedModelServer({ script: parseScript(demoScriptWith({ "build-write-source": { delayMs: 6000 } })) });
  env = { KODO_HOME: home, KODO_MODEL_BASE_URL: model.url, KODO_MODEL: "scripted-1", KODO_MODEL_API_KEY: "test", KODO_MODEL_COST: JSON.stringify({ input: 3, output: 15 }) };
  kodo = await startKodoProcess(env);
  firstRun = await runToPlanReview();
  await ok(kodo.url, "POST", `/api/runs/${firstRun}/approve-plan`);
  expect((await runEnded(firstRun)).status).toBe("Done");
  await workflowEnded(firstRun);
}, 300_000);

afterAll(async () => {
  expect(await kodo?.stop()).toBe(0);
  await model?.close();
  expect(await waitUntilGone(home, 15_000)).toEqual([]);
}, 120_000);

describe("a running kodo that finished a run", () => {
  it("passes the doctor: every check PASS, ports at most a WARN the machine explains", async () => {
    const report = await runDoctor({ env: doctorEnv() });
    const found = statuses(report);
    const { ports, ...rest } = found;
    expect(Object.values(rest).every((status) => status === "PASS"), JSON.stringify(report.checks.filter((item) => item.status !== "PASS"), null, 2)).toBe(true);
    expect(["PASS", "WARN"]).toContain(ports);
    expect(report.ok).toBe(true);
    expect(check(report, "opencode.server").details?.["method"]).toBe("GET /global/health with the password from the server's environment");
    expect(check(report, "kodo.server").summary).toContain("API and worker (executor kodo-local)");
    expect(check(report, "database").summary).toContain("the running kodo");
    expect(check(report, "dbos.version").summary).toBe(`no workflows in flight; this home's version is "kodo-0.1.0"`);
  });

  it("answers every query of docs/triage.md about the run", async () => {
    const queries = triageQueries();
    expect([...queries.keys()].sort()).toEqual(
      [
        "audit-findings", "blocking-findings", "cost-per-step", "in-flight-versions", "ledger", "pending-approvals", "pending-model-calls",
        "run", "run-approvals", "run-events", "run-history", "stuck-runs", "verify-attempts", "workflow", "workflow-steps",
      ].sort(),
    );
    const { databaseUrl } = JSON.parse(readFileSync(path.join(home, "server.json"), "utf8")) as { databaseUrl: string };
    const db = new pg.Pool({ connectionString: databaseUrl, max: 1 });
    try {
      const results = new Map<string, Array<Record<string, unknown>>>();
      for (const [name, sql] of queries) {
        // psql's :'run_id' becomes a bind parameter
        const usesRun = sql.includes(":'run_id'");
        const result = await db.query(sql.replaceAll(":'run_id'", "$1"), usesRun ? [firstRun] : []);
        results.set(name, result.rows as Array<Record<string, unknown>>);
      }
      const rows = (name: string): Array<Record<string, unknown>> => results.get(name) ?? [];
      expect(rows("run")).toEqual([expect.objectContaining({ id: firstRun, status: "Done", title: DEMO_TASK.title, error_code: null })]);
      expect(rows("run-history").map((row) => row["to_status"])).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);
      expect(rows("run-events").length).toBeGreaterThan(5);
      expect(rows("workflow")).toEqual([expect.objectContaining({ workflow_uuid: firstRun, status: "SUCCESS", name: "RunTask", queue_name: "kodo-runs", application_version: "kodo-0.1.0" })]);
      const steps = rows("workflow-steps").map((row) => row["function_name"]);
      for (const step of ["StartRun", "CompilePlan", "Build", "Verify", "Review", "Finish"]) expect(steps).toContain(step);
      const ledger = rows("ledger");
      // the agent's two turns (Review is the diff, no model call)
      expect(ledger.map((row) => row["step_id"])).toEqual(["CompilePlan", "Build"]);
      expect(ledger.every((row) => row["status"] === "completed")).toBe(true);
      const perStep = rows("cost-per-step");
      expect(perStep.map((row) => row["step_id"])).toEqual(["CompilePlan", "Build"]);
      expect(perStep.every((row) => Number(row["tokens"]) > 0 && Number(row["cost_usd"]) > 0)).toBe(true);
      expect(rows("verify-attempts")).toEqual([expect.objectContaining({ attempt: 1, class: "PASSED" })]);
      for (const name of ["stuck-runs", "in-flight-versions", "pending-model-calls", "pending-approvals"]) expect(rows(name), name).toEqual([]);
      expect(rows("audit-findings").every((row) => row["severity"] !== "blocking")).toBe(true);
      expect(rows("blocking-findings")).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it("serves /metrics behind the token, with the run, its ledger and this worker's OpenCode", async () => {
    expect((await fetch(`${kodo!.url}/metrics`)).status).toBe(401);
    const response = await request(kodo!.url, "GET", "/metrics");
    expect(response.status).toBe(200);
    const metrics = parseExposition(String(response.body));
    expect(metrics.value("kodo_runs", { status: "Done" })).toBe(1);
    expect(metrics.value("kodo_run_duration_seconds_count", { status: "Done" })).toBe(1);
    expect(metrics.value("kodo_model_calls_total", { agent: "plan", step: "CompilePlan", status: "completed" })).toBe(1);
    expect(metrics.value("kodo_model_tokens_total", { agent: "build", step: "Build", kind: "input" })).toBeGreaterThan(0);
    expect(metrics.value("kodo_model_cost_usd_total", { agent: "build", step: "Build" })).toBeGreaterThan(0);
    expect(metrics.value("kodo_verify_duration_seconds_count", { class: "PASSED" })).toBe(1);
    expect(metrics.value("kodo_worker")).toBe(1);
    expect(metrics.value("kodo_opencode_up")).toBe(1);
    expect(metrics.value("kodo_opencode_restarts_total")).toBe(0);
    expect(metrics.value("kodo_queue_depth", { queue: "kodo-runs" })).toBe(0);
    expect(metrics.value("kodo_build_info", { version: "kodo-0.1.0" })).toBe(1);
  });
});

describe("kill -9 in the middle of a build", () => {
  it("the doctor names the stuck run and the leftovers; after a restart the run finishes and the doctor passes", async () => {
    const runId = await runToPlanReview();
    const before = model.stats().byRule["build-write-source"] ?? 0;
    await ok(kodo!.url, "POST", `/api/runs/${runId}/approve-plan`);
    await until("the build's model request", async () => ((model.stats().byRule["build-write-source"] ?? 0) > before ? true : undefined), 60_000);
    await kodo!.kill9();

    const report = await runDoctor({ env: doctorEnv() });
    expect(check(report, "kodo.server")).toMatchObject({ status: "WARN", summary: expect.stringContaining("stale") });
    // the sandboxed OpenCode dies with its kodo (bubblewrap --die-with-parent): its pidfile is stale
    expect(check(report, "opencode.server")).toMatchObject({ status: "WARN", summary: expect.stringMatching(/^stale .*opencode\.pid\.json: its server \(pid \d+\) and its kodo \(pid \d+\) are gone$/) });
    // the killed kodo's embedded Postgres outlives it: the doctor finds it from its lock file
    expect(check(report, "database")).toMatchObject({ status: "PASS", summary: expect.stringContaining("the embedded Postgres of this home") });
    const stuck = check(report, "runs.stuck");
    expect(stuck.status).toBe("FAIL");
    expect(stuck.summary).toContain(`${runId} (InProgress, workflow PENDING on executor kodo-local): no kodo runs for this home`);
    expect(stuck.fix).toContain("start kodo serve for this home");
    expect(report.ok).toBe(false);

    kodo = await startKodoProcess(env);
    expect((await runEnded(runId)).status).toBe("Done");
    await workflowEnded(runId);
    const after = await runDoctor({ env: doctorEnv() });
    expect(check(after, "runs.stuck")).toMatchObject({ status: "PASS", summary: "no runs in flight" });
    expect(check(after, "opencode.server").status).toBe("PASS");
    expect(after.checks.filter((found) => found.status === "FAIL")).toEqual([]);
  });
});
