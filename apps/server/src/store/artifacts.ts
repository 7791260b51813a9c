import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Pool, PoolClient } from "pg";
import { sha256Hex } from "../model/op-key.js";

type Queryable = Pick<PoolClient, "query"> | Pick<Pool, "query">;

/** Writes `runs/<runId>/<name>` under the kodo home and records it with its sha256 (idempotent). */
export async function saveArtifact(
  db: Queryable,
  runsDir: string,
  artifact: { runId: string; kind: string; name: string; content: string | Buffer },
): Promise<{ path: string; sha256: string; bytes: number }> {
  const dir = path.join(runsDir, artifact.runId);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, artifact.name);
  const buffer = typeof artifact.content === "string" ? Buffer.from(artifact.content) : artifact.content;
  await writeFile(file, buffer);
  const sha256 = sha256Hex(buffer);
  await db.query(
    `INSERT INTO kodo.artifacts (run_id, kind, name, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (run_id, name) DO UPDATE SET kind = EXCLUDED.kind, path = EXCLUDED.path, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes`,
    [artifact.runId, artifact.kind, artifact.name, file, sha256, buffer.length],
  );
  return { path: file, sha256, bytes: buffer.length };
}

/** Records a file already written (e.g. an evidence manifest) as an artifact of the run (idempotent). */
export async function recordArtifactFile(
  db: Queryable,
  artifact: { runId: string; kind: string; name: string; path: string; sha256: string; bytes: number },
): Promise<void> {
  await db.query(
    `INSERT INTO kodo.artifacts (run_id, kind, name, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (run_id, name) DO UPDATE SET kind = EXCLUDED.kind, path = EXCLUDED.path, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes`,
    [artifact.runId, artifact.kind, artifact.name, artifact.path, artifact.sha256, artifact.bytes],
  );
}
