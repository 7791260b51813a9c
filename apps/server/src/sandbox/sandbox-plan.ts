/**
 * Checks a SandboxSpec and turns it into a plan: real paths (a symlinked path is bound or masked
 * at its target, which hides every name of it), mounts ordered parents-first, the environment
 * with its defaults. Everything wrong with the spec is a SANDBOX_SPEC_INVALID, before anything runs.
 */
import fs from "node:fs";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { DEFAULT_GRACE_MS, DEFAULT_HOME, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_PATH, type SandboxSpec } from "./types.js";

export type MountKind = "writable" | "read-only" | "mask-file" | "mask-dir";

export interface PlannedMount {
  kind: MountKind;
  path: string;
}

export interface SandboxPlan {
  command: string[];
  cwd: string;
  /** parents before children, so a bind inside a masked directory or a read-only file inside a writable one both hold */
  mounts: PlannedMount[];
  network: boolean;
  env: Record<string, string>;
  timeoutMs: number;
  graceMs: number;
  maxOutputBytes: number;
  fullOutputDir: string | undefined;
  allowUnsandboxed: boolean;
  notes: string[];
}

function invalid(message: string, details?: Record<string, unknown>): KodoError {
  return new KodoError("SANDBOX_SPEC_INVALID", message, details === undefined ? {} : { details });
}

function checkAbsolute(what: string, value: string): void {
  if (typeof value !== "string" || value === "" || value.includes("\0") || !path.isAbsolute(value)) {
    throw invalid(`${what} must be an absolute path: ${JSON.stringify(value)}`);
  }
}

/** The real path, or undefined when the path does not exist. */
function realPathOf(value: string): string | undefined {
  try {
    return fs.realpathSync(value);
  } catch {
    return undefined;
  }
}

export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

const KIND_ORDER: Record<MountKind, number> = { writable: 0, "read-only": 1, "mask-file": 2, "mask-dir": 2 };

function depth(value: string): number {
  return value.split("/").filter((part) => part !== "").length;
}

/** The mounts of a spec, checked and ordered parents-first (also used for the OpenCode server's sandbox). */
export function planMounts(spec: Pick<SandboxSpec, "writable" | "readOnly" | "masked">, notes: string[]): PlannedMount[] {
  const mounts: PlannedMount[] = [];
  for (const entry of spec.writable) {
    checkAbsolute("writable path", entry);
    const real = realPathOf(entry);
    if (real === undefined) throw invalid(`writable path does not exist: ${entry}`);
    if (real === "/") throw invalid("the whole file system cannot be writable");
    mounts.push({ kind: "writable", path: real });
  }
  for (const entry of spec.readOnly ?? []) {
    checkAbsolute("read-only path", entry);
    const real = realPathOf(entry);
    if (real === undefined) {
      notes.push(`read-only path ${entry} does not exist: not bound (if created inside, it follows its parent's mode)`);
      continue;
    }
    mounts.push({ kind: "read-only", path: real });
  }
  for (const entry of spec.masked ?? []) {
    checkAbsolute("masked path", entry);
    const real = realPathOf(entry);
    if (real === undefined) {
      notes.push(`masked path ${entry} does not exist: nothing to hide`);
      continue;
    }
    if (real === "/") throw invalid("the whole file system cannot be masked");
    mounts.push({ kind: fs.statSync(real).isDirectory() ? "mask-dir" : "mask-file", path: real });
  }
  return mounts
    .map((mount, index) => ({ mount, index }))
    .sort((a, b) => depth(a.mount.path) - depth(b.mount.path) || KIND_ORDER[a.mount.kind] - KIND_ORDER[b.mount.kind] || a.index - b.index)
    .map(({ mount }) => mount);
}

/** bwrap sets PWD after --chdir whatever we pass; the fallback does the same, so both agree. */
function planEnv(env: Record<string, string>, cwd: string): Record<string, string> {
  const planned: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name === "" || name.includes("=") || name.includes("\0")) throw invalid(`invalid environment variable name: ${JSON.stringify(name)}`);
    if (typeof value !== "string" || value.includes("\0")) throw invalid(`environment variable ${name} must be a string without NUL bytes`);
    planned[name] = value;
  }
  planned["PATH"] ??= DEFAULT_PATH;
  planned["HOME"] ??= DEFAULT_HOME;
  planned["PWD"] = cwd;
  return planned;
}

function checkCommand(command: string[]): void {
  if (!Array.isArray(command) || command.length === 0 || command[0] === "") throw invalid("command must be a non-empty argv array");
  for (const part of command) {
    if (typeof part !== "string" || part.includes("\0")) throw invalid("command arguments must be strings without NUL bytes");
  }
}

function checkNumber(what: string, value: number, minimum: number): number {
  if (!Number.isFinite(value) || value < minimum) throw invalid(`${what} must be a number ≥ ${minimum}: ${value}`);
  return value;
}

export function planSandbox(spec: SandboxSpec): SandboxPlan {
  checkCommand(spec.command);
  const notes: string[] = [];
  const mounts = planMounts(spec, notes);
  checkAbsolute("cwd", spec.cwd);
  const cwd = realPathOf(spec.cwd);
  if (cwd === undefined || !fs.statSync(cwd).isDirectory()) throw invalid(`cwd is not a directory: ${spec.cwd}`);
  if (!mounts.some((mount) => mount.kind === "writable" && isInside(mount.path, cwd))) {
    throw invalid(`cwd must be inside a writable path: ${spec.cwd}`, { writable: spec.writable });
  }
  if (spec.fullOutputDir !== undefined) checkAbsolute("fullOutputDir", spec.fullOutputDir);
  return {
    command: [...spec.command],
    cwd,
    mounts,
    network: spec.network,
    env: planEnv(spec.env, cwd),
    timeoutMs: checkNumber("timeoutMs", spec.timeoutMs, 1),
    graceMs: checkNumber("graceMs", spec.graceMs ?? DEFAULT_GRACE_MS, 0),
    maxOutputBytes: Math.floor(checkNumber("maxOutputBytes", spec.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, 0)),
    fullOutputDir: spec.fullOutputDir,
    allowUnsandboxed: spec.allowUnsandboxed === true,
    notes,
  };
}
