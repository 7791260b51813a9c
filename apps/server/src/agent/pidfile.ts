/**
 * The pidfile of the OpenCode server of one state dir: who runs it, where, and for which kodo
 * process. A kodo that starts and finds a live server whose owner is dead cleans it up.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { isAlive, readCmdline, readEnviron, readStat } from "./process-table.js";

export const PIDFILE_NAME = "opencode.pid.json";
/** Set in the server's environment; inherited by everything it starts, even across setsid. */
export const STATE_MARKER_ENV = "KODO_OPENCODE_STATE";

const pidfileSchema = z.object({
  pid: z.number().int().positive(),
  pgid: z.number().int().positive(),
  url: z.string(),
  startedAt: z.string(),
  ownerPid: z.number().int().positive(),
  /** the owner's start time (/proc/<pid>/stat): a reused ownerPid is not mistaken for the owner */
  ownerStartTime: z.number().int().nonnegative().optional(),
});

export type Pidfile = z.infer<typeof pidfileSchema>;

export function pidfilePath(stateDir: string): string {
  return path.join(stateDir, PIDFILE_NAME);
}

/** undefined when there is none or it is not ours to read (a corrupt file is treated as absent). */
export function readPidfile(stateDir: string): Pidfile | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(pidfilePath(stateDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = pidfileSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Written atomically (temp file + rename), mode 0600. */
export function writePidfile(stateDir: string, pidfile: Pidfile): void {
  const target = pidfilePath(stateDir);
  const temp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(pidfile, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, target);
}

export function removePidfile(stateDir: string): void {
  fs.rmSync(pidfilePath(stateDir), { force: true });
}

/**
 * True only for a live `opencode serve` (or the `bwrap … -- opencode serve` of a sandboxed one)
 * whose environment carries this state dir's marker: a pid reused by a stranger is never
 * mistaken for our server.
 */
export function isOurServer(pid: number, stateDir: string): boolean {
  if (!isAlive(pid)) return false;
  let cmdline = readCmdline(pid);
  if (cmdline !== undefined && path.basename(cmdline[0] ?? "") === "bwrap") cmdline = cmdline.slice(cmdline.indexOf("--") + 1);
  if (cmdline === undefined || !cmdline.includes("serve")) return false;
  const executable = cmdline[0] ?? "";
  if (!path.basename(executable).startsWith("opencode")) return false;
  return readEnviron(pid)?.get(STATE_MARKER_ENV) === path.resolve(stateDir);
}

/** Is the kodo process that wrote this pidfile still running (the same process, not a reused pid)? */
export function ownerAlive(pidfile: Pidfile): boolean {
  if (!isAlive(pidfile.ownerPid)) return false;
  if (pidfile.ownerStartTime === undefined) return true;
  return readStat(pidfile.ownerPid)?.startTime === pidfile.ownerStartTime;
}

/** This process's start time, for `ownerStartTime`. */
export function ownStartTime(): number | undefined {
  return readStat(process.pid)?.startTime;
}
