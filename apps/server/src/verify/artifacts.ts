/** Evidence files of a test run: name (relative to the artifacts dir), path, sha256, size. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { SandboxResult } from "../sandbox/index.js";
import type { ArtifactRef } from "./types.js";

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function fileArtifact(name: string, file: string): Promise<ArtifactRef> {
  const [sha256, info] = await Promise.all([sha256File(file), stat(file)]);
  return { name, path: file, sha256, bytes: info.size };
}

/** The full stdout/stderr logs the sandbox wrote (it hashed them while writing). */
export async function logArtifacts(result: SandboxResult, artifactsDir: string): Promise<ArtifactRef[]> {
  const artifacts: ArtifactRef[] = [];
  for (const stream of [result.stdout, result.stderr]) {
    if (stream.file === undefined) continue;
    const bytes = await stat(stream.file.path).then((info) => info.size, () => stream.totalBytes);
    const name = path.relative(artifactsDir, stream.file.path).split(path.sep).join("/");
    artifacts.push({ name, path: stream.file.path, sha256: stream.file.sha256, bytes });
  }
  return artifacts;
}
