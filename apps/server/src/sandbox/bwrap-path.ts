/**
 * Where bubblewrap is: `KODO_BWRAP` (a path or a name, for tests and odd installs) or `bwrap` on
 * the PATH. Read at every call so a test can point it elsewhere.
 */
import fs from "node:fs";
import path from "node:path";

export const BWRAP_ENV = "KODO_BWRAP";

export interface BwrapLocation {
  /** what was asked for: the override or "bwrap" */
  requested: string;
  /** an executable file, or undefined when none was found */
  resolved: string | undefined;
}

function isExecutableFile(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

export function locateBwrap(): BwrapLocation {
  const override = process.env[BWRAP_ENV];
  const requested = override !== undefined && override !== "" ? override : "bwrap";
  if (requested.includes("/")) {
    const absolute = path.resolve(requested);
    return { requested, resolved: isExecutableFile(absolute) ? absolute : undefined };
  }
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = path.join(dir, requested);
    if (isExecutableFile(candidate)) return { requested, resolved: candidate };
  }
  return { requested, resolved: undefined };
}
