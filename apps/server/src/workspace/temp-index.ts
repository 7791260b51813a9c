import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * Runs `work` with a private GIT_INDEX_FILE in a fresh temporary directory (outside every
 * repository), removed afterwards: the worktree's real index is never read-modified-written.
 */
export async function withTempIndex<T>(work: (env: { GIT_INDEX_FILE: string }) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "kodo-index-"));
  try {
    return await work({ GIT_INDEX_FILE: path.join(directory, "index") });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
