import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * What kodo remembers about an embedded server between starts, in a small JSON file next to the
 * data directory (`<dataDir>.kodo.json`): the port to try first, and which process started it.
 */
export interface EmbeddedState {
  port: number;
  /** the Node process that started the postmaster (its parent while that process lives) */
  ownerPid: number;
  postmasterPid: number;
  startedAt: string;
}

export function statePath(dataDir: string): string {
  return path.join(path.dirname(dataDir), `${path.basename(dataDir)}.kodo.json`);
}

/** The remembered state; undefined when missing or unreadable (it is only a hint). */
export async function readState(dataDir: string): Promise<EmbeddedState | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(statePath(dataDir), "utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    const { port, ownerPid, postmasterPid, startedAt } = record;
    if (typeof port !== "number" || typeof ownerPid !== "number" || typeof postmasterPid !== "number") return undefined;
    return { port, ownerPid, postmasterPid, startedAt: typeof startedAt === "string" ? startedAt : "" };
  } catch {
    return undefined;
  }
}

export async function writeState(dataDir: string, state: EmbeddedState): Promise<void> {
  const target = statePath(dataDir);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, target);
}
