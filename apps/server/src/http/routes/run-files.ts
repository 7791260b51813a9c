/**
 * What a run left behind, for the board: its agent sessions, and the content of its artifacts
 * (the diff, the plan card, audit findings, test reports). An artifact is named by the run's own
 * artifact list (`kodo.artifacts`); the file read is the one kodo recorded there, never a path
 * the client gave.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Pool } from "pg";
import { z } from "zod";
import { ApiError, ArtifactName, RunSessionList } from "@kodo/contracts";
import { KodoError } from "../../lib/errors.js";
import { sha256Hex } from "../../model/op-key.js";
import { errors, json } from "../openapi-helpers.js";

/** Larger artifacts are not sent whole to a browser (test logs can grow; a diff that large is unreadable anyway). */
export const ARTIFACT_MAX_BYTES = 16 * 1024 * 1024;

const RunParam = z.object({ id: z.string().min(1).max(100) });

const routes = {
  sessions: createRoute({
    method: "get",
    path: "/api/runs/{id}/sessions",
    request: { params: RunParam },
    responses: { 200: json(RunSessionList, "the run's agent sessions, oldest first"), ...errors },
  }),
  artifact: createRoute({
    method: "get",
    path: "/api/runs/{id}/artifacts/{name}",
    request: { params: RunParam.extend({ name: ArtifactName }) },
    responses: {
      200: {
        description: "the artifact's bytes as recorded (text/plain for patches, logs and XML; application/json for JSON); `X-Kodo-Sha256` is its recorded digest, checked before sending",
        content: { "text/plain": { schema: z.string() }, "application/json": { schema: z.unknown() }, "application/octet-stream": { schema: z.string() } },
      },
      404: errors[404],
      409: { description: "the file no longer matches its recorded sha256", content: { "application/json": { schema: ApiError } } },
    },
  }),
};

const TEXT_TYPES: Readonly<Record<string, string>> = {
  ".json": "application/json; charset=utf-8",
  ".patch": "text/plain; charset=utf-8",
  ".diff": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".log": "text/plain; charset=utf-8",
  ".xml": "text/plain; charset=utf-8",
};

interface ArtifactRow {
  path: string;
  sha256: string;
}

async function runExists(pool: Pool, runId: string): Promise<void> {
  const found = await pool.query(`SELECT 1 FROM kodo.runs WHERE id = $1`, [runId]);
  if (found.rowCount === 0) throw new KodoError("NOT_FOUND", `run ${runId} not found`, { details: { runId } });
}

/** Reads a regular file (no symlink) of at most ARTIFACT_MAX_BYTES. */
async function readArtifactFile(file: string, name: string): Promise<Buffer> {
  const handle = await open(file, "r").catch(() => undefined);
  if (handle === undefined) throw new KodoError("NOT_FOUND", `the file of artifact ${name} is gone`, { details: { name } });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new KodoError("NOT_FOUND", `artifact ${name} is not a regular file`, { details: { name } });
    if (info.size > ARTIFACT_MAX_BYTES) {
      throw new KodoError("CONFLICT", `artifact ${name} has ${info.size} bytes, more than the ${ARTIFACT_MAX_BYTES} the API sends; read it from the kodo home`, { details: { name, bytes: info.size } });
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

export function registerRunFileRoutes(app: OpenAPIHono, deps: { pool: Pool }): void {
  const { pool } = deps;
  app.openapi(routes.sessions, async (c) => {
    const { id } = c.req.valid("param");
    await runExists(pool, id);
    const rows = await pool.query<{ session_id: string; agent: string; created_at: Date }>(
      `SELECT session_id, agent, created_at FROM kodo.sessions WHERE run_id = $1 ORDER BY created_at, session_id`,
      [id],
    );
    return c.json({ sessions: rows.rows.map((row) => ({ sessionId: row.session_id, agent: row.agent, createdAt: row.created_at.toISOString() })) }, 200);
  });

  app.openapi(routes.artifact, async (c) => {
    const { id, name } = c.req.valid("param");
    const found = await pool.query<ArtifactRow>(`SELECT path, sha256 FROM kodo.artifacts WHERE run_id = $1 AND name = $2`, [id, name]);
    const row = found.rows[0];
    if (row === undefined) {
      await runExists(pool, id);
      throw new KodoError("NOT_FOUND", `run ${id} has no artifact ${JSON.stringify(name)}`, { details: { runId: id, name } });
    }
    const content = await readArtifactFile(row.path, name);
    const sha256 = sha256Hex(content);
    if (sha256 !== row.sha256) {
      throw new KodoError("CONFLICT", `artifact ${name} changed on disk since it was recorded (sha256 ${sha256}, recorded ${row.sha256})`, { details: { runId: id, name } });
    }
    return c.body(new Uint8Array(content), 200, {
      "content-type": TEXT_TYPES[path.extname(name).toLowerCase()] ?? "application/octet-stream",
      "x-content-type-options": "nosniff",
      "content-security-policy": "sandbox; default-src 'none'",
      "cache-control": "no-store",
      "x-kodo-sha256": row.sha256,
    });
  });
}
