/**
 * End to end, with real parts: the built `kodo serve` (embedded Postgres, DBOS, a real OpenCode
 * server), the scripted model, real git. Drives tasks through the public HTTP API the way the demo
 * does, and checks the database, the SSE stream, the worktree and the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { ExecuteResponse, Run, Task } from "@kodo/contracts";
import { parseScript } from "../../src/model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../../src/model/scripted/server.js";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { collectEvents, ok, request, until } from "../support/api.js";
import { makeHome, startKodoProcess, type KodoProcess } from "../support/kodo-process.js";
import { waitUntilGone } from "../support/processes.js";
import { demoScriptWith } from "../support/scripts.js";

const execFileAsync = promisify(execFile);

let home: string;
let model: ScriptedModelServer;
let kodo: KodoProcess;
let repo: string;
let db: pg.Pool;

async function gitStatus(dir: string): Promise<string> {
  return (await execFileAsync("git", ["status", "--porcelain=v2", "--untracked-files=all"], { cwd: dir })).stdout;
}

beforeAll(async () => {
  home = await makeHome("kodo-e2e-");
  const script = demoScriptWith({});
  // A task whose prompt says HANG-BUILD gets a build turn that never answers (for the cancel path).
  const planIndex = script.rules.findIndex((rule) => rule.name === "plan");
  script.rules.splice(planIndex + 1, 0, { name: "build-hang", when: { user: "HANG-BUILD", toolResults: 0 }, reply: { hang: true } });
  model = await startScriptedModelServer({ script: parseScript(script) });
  repo = await createSampleRepo(await mkdtemp(path.join(home, "repo-")));
  kodo = await startKodoProcess({
    KODO_HOME: home,
    KODO_MODEL_BASE_URL: model.url,
    KODO_MODEL: "scripted-1",
    KODO_MODEL_API_KEY: "test",
    KODO_MODEL_COST: JSON.stringify({ input: 3, output: 15 }),
    KODO_RANDOM_SEED: "e2e",
  });
  const serverFile = JSON.parse(readFileSync(path.join(home, "server.json"), "utf8")) as { url: string; databaseUrl: string };
  expect(serverFile.url).toBe(kodo.url);
  db = new pg.Pool({ connectionString: serverFile.databaseUrl, max: 2 });
}, 180_000);

afterAll(async () => {
  await db?.end();
  const code = await kodo?.stop();
  await model?.close();
  expect(code).toBe(0);
  // Everything kodo started (Postgres, OpenCode and whatever its tools ran) is gone.
  expect(await waitUntilGone(home, 15_000)).toEqual([]);
}, 120_000);

async function createTask(prompt: string, title = DEMO_TASK.title): Promise<Task> {
  return ok<Task>(kodo.url, "POST", "/api/tasks", { title, prompt, repoPath: repo });
}

async function runUntil(runId: string, statuses: string[]): Promise<Run> {
  return until(`run ${runId} in ${statuses.join("/")}`, async () => {
    const run = await ok<Run>(kodo.url, "GET", `/api/runs/${runId}`);
    return statuses.includes(run.status) ? run : undefined;
  });
}

describe("a task, end to end", () => {
  it("plans, stops for approval, builds in its own worktree and reaches Done", async () => {
    const userCheckoutBefore = await gitStatus(repo);
    const task = await createTask(DEMO_TASK.prompt);
    expect(task.status).toBe("Todo");
    const live = collectEvents(`${kodo.url}/api/events?taskId=${task.id}`);

    const execute = await request(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    expect(execute.status).toBe(202);
    const { runId } = execute.body as ExecuteResponse;
    const second = await request(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: { code: "RUN_ALREADY_ACTIVE" } });

    const waiting = await runUntil(runId, ["PlanningReview", "Failed"]);
    expect(waiting.status).toBe("PlanningReview");
    expect(waiting.plan?.files).toEqual(["src/slugify.js", "test/slugify.test.js"]);
    expect(waiting.planApprovedAt).toBeNull();
    // Nothing is written before approval: the worktree holds only kodo's AGENTS.md.
    const worktree = waiting.worktreePath!;
    expect(existsSync(path.join(worktree, "src", "slugify.js"))).toBe(false);
    expect((await gitStatus(worktree)).trim().split("\n")).toEqual(["? AGENTS.md"]);
    expect(waiting.branch).toMatch(/^kodo\/add-slugify-/);

    const approved = await request(kodo.url, "POST", `/api/runs/${runId}/approve-plan`, { comment: "ship it" });
    expect(approved.status).toBe(200);
    const again = await request(kodo.url, "POST", `/api/runs/${runId}/reject-plan`, { reason: "changed my mind" });
    expect(again.status).toBe(409);

    const done = await runUntil(runId, ["Done", "Failed"]);
    expect(done.error).toBeNull();
    expect(done.status).toBe("Done");
    expect(done.history.map((change) => change.to)).toEqual(["Planning", "PlanningReview", "InProgress", "AiReview", "Done"]);
    expect(done.planApprovedAt).not.toBeNull();

    // The work is in the run's worktree (and committed on its branch), not in the user's checkout.
    expect(readFileSync(path.join(worktree, "src", "slugify.js"), "utf8")).toContain("export function slugify");
    await execFileAsync(process.execPath, ["--test"], { cwd: worktree });
    expect(existsSync(path.join(repo, "src", "slugify.js"))).toBe(false);
    expect(await gitStatus(repo)).toBe(userCheckoutBefore);
    const committed = (await execFileAsync("git", ["show", "--name-only", "--format=", done.headCommit!], { cwd: repo })).stdout.trim().split("\n").sort();
    expect(committed).toEqual(["src/slugify.js", "test/slugify.test.js"]);
    expect(done.review?.files.map((file) => file.path).sort()).toEqual(["src/slugify.js", "test/slugify.test.js"]);

    // The ledger: one completed row per op_key, with tokens, rolled up into the run and the task.
    expect(done.modelCalls.map((call) => [call.stepId, call.status])).toEqual([
      ["CompilePlan", "completed"],
      ["Build", "completed"],
    ]);
    for (const call of done.modelCalls) expect(call.tokensInput).toBeGreaterThan(0);
    expect(done.usage.calls).toBe(2);
    expect(done.usage.costUsd).toBeGreaterThan(0);
    const duplicateKeys = await db.query(`SELECT op_key FROM kodo.model_calls GROUP BY op_key HAVING count(*) > 1`);
    expect(duplicateKeys.rowCount).toBe(0);
    const taskAfter = await ok<Task>(kodo.url, "GET", `/api/tasks/${task.id}`);
    expect(taskAfter.status).toBe("Done");
    expect(taskAfter.usage.tokensInput).toBe(done.usage.tokensInput);

    // The DB's history and its approval row agree.
    const approval = await db.query(`SELECT decision, decided_by FROM kodo.plan_approvals WHERE run_id = $1`, [runId]);
    expect(approval.rows).toEqual([{ decision: "approved", decided_by: "api" }]);
    const firstBuildCall = await db.query(`SELECT min(created_at) AS at FROM kodo.model_calls WHERE run_id = $1 AND step_id = 'Build'`, [runId]);
    expect(new Date(firstBuildCall.rows[0].at).getTime()).toBeGreaterThanOrEqual(new Date(done.planApprovedAt!).getTime());

    // The SSE stream saw the same status sequence, every frame with an id.
    await until("the status events", async () => (live.events.filter((e) => e.event.type === "task.status_changed").length >= 5 ? true : undefined), 10_000);
    live.close();
    const streamed = live.events.flatMap((e) => (e.event.type === "task.status_changed" ? [e.event.to] : []));
    expect(streamed).toEqual(["Todo", "Planning", "PlanningReview", "InProgress", "AiReview", "Done"].slice(1));
    expect(live.events.some((e) => e.event.type === "session.started")).toBe(true);
    expect(live.ids.every((id) => /^\d+$/.test(id))).toBe(true);

    // Resuming with Last-Event-ID replays exactly what came after it.
    const middle = live.events[2]!;
    const resumed = collectEvents(`${kodo.url}/api/events?taskId=${task.id}`, { "Last-Event-ID": String(middle.id) });
    await until("the replay", async () => (resumed.events.length >= live.events.length - 3 ? true : undefined), 10_000);
    resumed.close();
    expect(resumed.events[0]!.id).toBeGreaterThan(middle.id);
    expect(resumed.events.map((e) => e.id).slice(0, live.events.length - 3)).toEqual(live.events.slice(3).map((e) => e.id));

    // Session activity was recorded from OpenCode's event stream.
    const activity = await ok<{ items: Array<{ kind: string; data: Record<string, unknown> }> }>(kodo.url, "GET", `/api/sessions/${done.sessionId}/activity`);
    expect(activity.items.some((item) => item.kind === "tool" && item.data["tool"] === "write")).toBe(true);
    // The model saw exactly one plan request and one build turn (three requests: write, write, summary).
    const stats = model.stats();
    expect(stats.byRule["plan"]).toBe(1);
    expect(stats.byRule["build-write-source"]).toBe(1);
  });

  it("a rejected plan ends the run Rejected with nothing built", async () => {
    const task = await createTask(DEMO_TASK.prompt, "Add slugify (to be rejected)");
    const { runId } = await ok<ExecuteResponse>(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    const waiting = await runUntil(runId, ["PlanningReview", "Failed"]);
    const empty = await request(kodo.url, "POST", `/api/runs/${runId}/reject-plan`, { reason: "" });
    expect(empty.status).toBe(400);
    const rejected = await request(kodo.url, "POST", `/api/runs/${runId}/reject-plan`, { reason: "not what I want" });
    expect(rejected.status).toBe(200);
    const ended = await runUntil(runId, ["Rejected", "Failed"]);
    expect(ended.status).toBe("Rejected");
    expect(ended.history.at(-1)?.reason).toBe("not what I want");
    expect(ended.modelCalls.map((call) => call.stepId)).toEqual(["CompilePlan"]);
    expect((await gitStatus(waiting.worktreePath!)).trim()).toBe("? AGENTS.md");
    const late = await request(kodo.url, "POST", `/api/runs/${runId}/approve-plan`);
    expect(late.status).toBe(409);
  });

  it("cancel aborts a build that hangs, ends the run Cancelled and leaves no process behind", async () => {
    const task = await createTask(`${DEMO_TASK.prompt} HANG-BUILD`, "Hanging build");
    const { runId } = await ok<ExecuteResponse>(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    await runUntil(runId, ["PlanningReview"]);
    await ok(kodo.url, "POST", `/api/runs/${runId}/approve-plan`);
    await runUntil(runId, ["InProgress"]);
    await until("the hanging build request", async () => ((model.stats().byRule["build-hang"] ?? 0) > 0 ? true : undefined), 30_000);
    const cancelled = await request(kodo.url, "POST", `/api/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((cancelled.body as Run).status).toBe("Cancelled");
    const again = await request(kodo.url, "POST", `/api/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    // The OpenCode session was aborted: it goes idle, and the run stays Cancelled.
    const run = await ok<Run>(kodo.url, "GET", `/api/runs/${runId}`);
    await until("the session to stop", async () => {
      const status = await fetchSessionBusy(run.sessionId!);
      return status ? undefined : true;
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await ok<Run>(kodo.url, "GET", `/api/runs/${runId}`)).status).toBe("Cancelled");
    // A new run of the same task may start once the old one is over.
    const next = await request(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
    expect(next.status).toBe(202);
    await ok(kodo.url, "POST", `/api/runs/${(next.body as ExecuteResponse).runId}/cancel`);
  });
});

async function fetchSessionBusy(sessionId: string): Promise<boolean> {
  const activity = await ok<{ items: Array<{ kind: string; messageId: string | null; data: Record<string, unknown> }> }>(
    kodo.url,
    "GET",
    `/api/sessions/${sessionId}/activity`,
  );
  const messages = activity.items.filter((item) => item.kind === "message" && item.data["role"] === "assistant");
  return messages.some((message) => message.data["completed"] !== true);
}

describe("bad input gets a clear error with a stable code, never a 500", () => {
  it.each([
    ["POST", "/api/tasks", { title: "", prompt: "x", repoPath: "/tmp" }, 400, "VALIDATION_FAILED"],
    ["POST", "/api/tasks", { title: "t", prompt: "x" }, 400, "VALIDATION_FAILED"],
    ["POST", "/api/tasks", { title: "t", prompt: "x", repoPath: "/tmp", extra: 1 }, 400, "VALIDATION_FAILED"],
    ["POST", "/api/tasks", { title: "t", prompt: "x", repoPath: "/definitely/not/here" }, 422, "REPO_NOT_FOUND"],
    ["POST", "/api/tasks", { title: "t", prompt: "x", repoPath: "/tmp" }, 422, "REPO_NOT_GIT"],
    ["GET", "/api/tasks/tsk_nope", undefined, 404, "NOT_FOUND"],
    ["GET", "/api/tasks?status=Nope", undefined, 400, "VALIDATION_FAILED"],
    ["GET", "/api/tasks?limit=-1", undefined, 400, "VALIDATION_FAILED"],
    ["POST", "/api/tasks/tsk_nope/execute", undefined, 404, "NOT_FOUND"],
    ["GET", "/api/runs/run_nope", undefined, 404, "NOT_FOUND"],
    ["POST", "/api/runs/run_nope/approve-plan", undefined, 404, "NOT_FOUND"],
    ["POST", "/api/runs/run_nope/approve-plan", { comment: 5 }, 400, "VALIDATION_FAILED"],
    ["POST", "/api/runs/run_nope/reject-plan", {}, 400, "VALIDATION_FAILED"],
    ["POST", "/api/runs/run_nope/reject-plan", { reason: "r" }, 404, "NOT_FOUND"],
    ["POST", "/api/runs/run_nope/cancel", undefined, 404, "NOT_FOUND"],
    ["GET", "/api/sessions/ses_nope/activity?after=x", undefined, 400, "VALIDATION_FAILED"],
    ["GET", "/api/nowhere", undefined, 404, "NOT_FOUND"],
  ])("%s %s %j → %i %s", async (method, route, body, status, code) => {
    const response = await request(kodo.url, method, route, body);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it("a body that is not JSON is a 400", async () => {
    const response = await request(kodo.url, "POST", "/api/tasks", undefined, "{not json");
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { code: expect.stringMatching(/BAD_REQUEST|VALIDATION_FAILED/) } });
  });

  it("a base ref that does not exist is a 422", async () => {
    const response = await request(kodo.url, "POST", "/api/tasks", { title: "t", prompt: "x", repoPath: repo, baseRef: "no-such-branch" });
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ error: { code: "BASE_REF_NOT_FOUND" } });
  });

  it("serves its OpenAPI document and health", async () => {
    const doc = await ok<{ openapi: string; paths: Record<string, unknown> }>(kodo.url, "GET", "/api/openapi.json");
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/tasks", "/api/tasks/{id}/execute", "/api/runs/{id}/approve-plan"]));
    const health = await ok<{ ok: boolean; worker: boolean }>(kodo.url, "GET", "/api/health");
    expect(health).toMatchObject({ ok: true, worker: true });
  });
});

/** A raw request, so the test controls every header (fetch will not send a foreign Host). */
function rawRequest(base: string, method: string, route: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${base}${route}`, { method, headers: { ...headers, ...(payload === undefined ? {} : { "content-type": "application/json" }) } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

describe("API auth: bearer token, Host and Origin allowlists", () => {
  const newTask = () => ({ title: "should not exist", prompt: "x", repoPath: repo });
  const countTasks = async () => (await ok<{ tasks: Task[] }>(kodo.url, "GET", "/api/tasks?limit=1000")).tasks.length;
  const token = () => readFileSync(path.join(home, "token"), "utf8").trim();
  const hostOf = () => new URL(kodo.url).host;

  it("keeps the token in a 0600 file in the home", async () => {
    expect(statSync(path.join(home, "token")).mode & 0o777).toBe(0o600);
    expect(token()).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["no token", {}, 401, "UNAUTHORIZED"],
    ["a wrong token", { authorization: `Bearer ${"0".repeat(64)}` }, 401, "UNAUTHORIZED"],
    ["a foreign Host (DNS rebinding)", { host: "evil.example:80", auth: true }, 403, "FORBIDDEN"],
    ["a foreign Origin", { origin: "http://evil.example", auth: true }, 403, "FORBIDDEN"],
  ])("rejects %s and changes nothing", async (_label, spec, status, code) => {
    const before = await countTasks();
    const { auth, ...rest } = spec as Record<string, string | boolean>;
    const headers: Record<string, string> = { host: hostOf(), ...(rest as Record<string, string>) };
    if (auth === true) headers["authorization"] = `Bearer ${token()}`;
    const response = await rawRequest(kodo.url, "POST", "/api/tasks", headers, newTask());
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
    expect(response).not.toHaveProperty("headers.access-control-allow-origin");
    expect(await countTasks()).toBe(before);
  });

  it("accepts its own origin with the token, and answers health without one", async () => {
    const own = await rawRequest(kodo.url, "GET", "/api/tasks?limit=1", { host: hostOf(), origin: kodo.url, authorization: `Bearer ${token()}` });
    expect(own.status).toBe(200);
    const health = await rawRequest(kodo.url, "GET", "/api/health", { host: hostOf() });
    expect(health.status).toBe(200);
  });
});
