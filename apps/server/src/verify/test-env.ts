/**
 * The environment tests run with: built from nothing, not inherited. The agent's code runs here,
 * so kodo's own secrets (model API keys, DATABASE_URL) must not reach it; only PATH and the pyenv
 * selection pass through from the host, plus what the caller adds.
 */
import os from "node:os";
import path from "node:path";
import type { RunnerName } from "./types.js";

/** kodo's home (as config.ts resolves it): masked inside the sandbox unless the caller says otherwise. */
export function defaultKodoHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["KODO_HOME"];
  return home !== undefined && home !== "" ? home : path.join(os.homedir(), ".kodo");
}

export function testEnvironment(scratch: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: path.join(scratch, "home"),
    TMPDIR: path.join(scratch, "tmp"),
    LANG: "C.UTF-8",
    TERM: "dumb",
    CI: "true",
    NO_COLOR: "1",
    // python: no __pycache__ written into the worktree, output in order
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
    // go: a build cache and GOPATH of this run's own (writable, thrown away), nothing fetched
    GOCACHE: path.join(scratch, "go-cache"),
    GOPATH: path.join(scratch, "go-path"),
    GOPROXY: "off",
    GOTOOLCHAIN: "local",
    GOTELEMETRY: "off",
    GOFLAGS: "",
  };
  for (const name of ["PYENV_ROOT", "PYENV_VERSION"]) {
    const value = process.env[name];
    if (value !== undefined && value !== "") env[name] = value;
  }
  return { ...env, ...extra };
}

/** The directories testEnvironment points at that this runner uses; they must exist before the run. */
export function scratchDirectories(scratch: string, runner: RunnerName): string[] {
  return ["home", "tmp", ...(runner === "go" ? ["go-cache", "go-path"] : [])].map((name) => path.join(scratch, name));
}
