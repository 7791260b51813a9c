/**
 * The routes the board reads a run's files through, on a real Postgres: a run's sessions, and an
 * artifact's content by its name in the run's artifact list, never by a path from the client;
 * checked against its recorded sha256.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunSessionList } from "@kodo/contracts";
import { withTransaction, type Database } from "../../src/db/database.js";
import { errorResponse, validationError } from "../../src/http/errors.js";
import { registerRunFileRoutes } from "../../src/http/routes/run-files.js";
import { fixedClock, newId, seededRandom } from "../../src/lib/ports.js";
import { saveArtifact } from "../../src/store/artifacts.js";
import { insertRun } from "../../src/store/runs.js";
import { insertTask } from "../../src/store/tasks.js";
import { startTestDatabase } from "../support/database.js";

let db: Database;
let app: OpenAPIHono;
let runsDir: string;
let runId: string;
let otherRunId: string;
const now = new Date("2026-01-05T10:00:00.000Z");
const random = seededRandom("run-files");
const PATCH = "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n";

beforeAll(async () => {
  db = await startTestDatabase();
  runsDir = await mkdtemp(path.join(os.tmpdir(), "kodo-run-files-"));
  app = new OpenAPIHono({ defaultHook: (result, c) => (result.success ? undefined : errorResponse(c, validationError(result.error))) });
  app.onError((error, c) => errorResponse(c, error));
  registerRunFileRoutes(app, { pool: db.pool });
  const taskId = newId("tsk", fixedClock(now), random);
  const otherTaskId = newId("tsk", fixedClock(now), random);
  runId = newId("run", fixedClock(now), random);
  otherRunId = newId("run", fixedClock(now), random);
  await withTransaction(db.pool, async (client) => {
    for (const [task, run] of [[taskId, runId], [otherTaskId, otherRunId]] as const) {
      await insertTask(client, { id: task, title: "t", prompt: "p", repoPath: "/tmp/repo", baseRef: "HEAD", options: { planApproval: "manual" }, at: now });
      await insertRun(client, { id: run, taskId: task, at: now });
    }
    await client.query(`INSERT INTO kodo.sessions (session_id, run_id, agent, directory, created_at) VALUES ('ses_b', $1, 'build', '/w', $2), ('ses_a', $1, 'plan', '/w', $3)`, [
      runId,
      new Date(now.getTime() + 1000),
      now,
    ]);
  });
  await saveArtifact(db.pool, runsDir, { runId, kind: "diff", name: "diff.patch", content: PATCH });
  await saveArtifact(db.pool, runsDir, { runId, kind: "audit", name: "audit-Build-1.json", content: '{"findings":[]}\n' });
  await saveArtifact(db.pool, runsDir, { runId: otherRunId, kind: "summary", name: "summary.json", content: '{"secret":"other run"}\n' });
  // test reports are recorded the way Verify does: a name with a folder
  await mkdir(path.join(runsDir, runId, "tests-attempt-1"), { recursive: true });
  await saveArtifact(db.pool, runsDir, { runId, kind: "test", name: "tests-attempt-1/junit.xml", content: "<testsuite/>" });
}, 120_000);

afterAll(async () => {
  await db?.close();
  if (runsDir !== undefined) await rm(runsDir, { recursive: true, force: true });
});

describe("GET /api/runs/{id}/sessions", () => {
  it("lists the run's agent sessions, oldest first", async () => {
    const response = await app.request(`/api/runs/${runId}/sessions`);
    expect(response.status).toBe(200);
    expect(RunSessionList.parse(await response.json()).sessions.map((session) => [session.sessionId, session.agent])).toEqual([
      ["ses_a", "plan"],
      ["ses_b", "build"],
    ]);
    expect(await (await app.request(`/api/runs/${otherRunId}/sessions`)).json()).toEqual({ sessions: [] });
    expect((await app.request(`/api/runs/run_nosuch123/sessions`)).status).toBe(404);
  });
});

describe("GET /api/runs/{id}/artifacts/{name}", () => {
  it("sends an artifact's recorded bytes with a safe content type and its digest", async () => {
    const response = await app.request(`/api/runs/${runId}/artifacts/diff.patch`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-kodo-sha256")).toMatch(/^[0-9a-f]{64}$/);
    expect(await response.text()).toBe(PATCH);
    const audit = await app.request(`/api/runs/${runId}/artifacts/audit-Build-1.json`);
    expect(audit.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // a name with a slash, encoded as one path segment
    const junit = await app.request(`/api/runs/${runId}/artifacts/${encodeURIComponent("tests-attempt-1/junit.xml")}`);
    expect(junit.status).toBe(200);
    expect(junit.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await junit.text()).toBe("<testsuite/>");
  });

  it("reads only what the run's own list names: other runs' artifacts and paths are 404", async () => {
    for (const name of ["summary.json", "../" + otherRunId + "/summary.json", encodeURIComponent(`../${otherRunId}/summary.json`), encodeURIComponent("/etc/passwd"), encodeURIComponent(path.join(runsDir, otherRunId, "summary.json"))]) {
      const response = await app.request(`/api/runs/${runId}/artifacts/${name}`);
      expect(response.status, name).toBe(404);
      expect(await response.text(), name).not.toContain("other run");
    }
    const missingRun = await app.request(`/api/runs/run_nosuch123/artifacts/diff.patch`);
    expect(missingRun.status).toBe(404);
    expect(await missingRun.json()).toMatchObject({ error: { code: "NOT_FOUND", message: expect.stringContaining("run run_nosuch123 not found") } });
  });

  it("refuses a file that no longer matches its recorded sha256", async () => {
    await saveArtifact(db.pool, runsDir, { runId, kind: "summary", name: "summary.json", content: '{"ok":true}\n' });
    await writeFile(path.join(runsDir, runId, "summary.json"), '{"ok":false}\n');
    const response = await app.request(`/api/runs/${runId}/artifacts/summary.json`);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { code: "CONFLICT", message: expect.stringContaining("changed on disk") } });
  });
});

describe("the OpenAPI document", () => {
  it("describes both routes", () => {
    const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "kodo API", version: "0.1.0" } });
    expect(Object.keys(document.paths ?? {})).toEqual(expect.arrayContaining(["/api/runs/{id}/sessions", "/api/runs/{id}/artifacts/{name}"]));
  });
});
