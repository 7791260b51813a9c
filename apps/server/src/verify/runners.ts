/**
 * Which runner a repository uses, and the base command that starts it.
 *
 * Detection (first match wins; a task's `runner` overrides it):
 *  1. the target says so: `*.py` (or a pytest node id) → pytest; `*.go`, `./...`-style → go
 *  2. vitest: `vitest` among the dependencies of the worktree's package.json
 *  3. node: package.json `scripts.test` runs `node --test`, or `*.test.{js,mjs,cjs}` files exist
 *  4. pytest: pytest.ini, pyproject.toml with [tool.pytest…], setup.cfg with [tool:pytest],
 *     conftest.py, or `test_*.py` / `*_test.py` files
 *  5. go: go.mod
 *
 * Base commands are resolved on the host, as absolute paths, so the sandbox's PATH and HOME do
 * not matter: python is the interpreter `python3` resolves to in the worktree (pyenv shims honour
 * `.python-version`, and skipping the shim saves ~150 ms a run); node is kodo's own node; vitest is
 * the repository's own copy (found from the worktree up, the way its test files' `import "vitest"`
 * resolves: a different copy than the one the tests import fails), never kodo's; go is `go` on PATH.
 */
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, readdir, readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { KodoError } from "../lib/errors.js";
import type { RunnerName } from "./types.js";

const run = promisify(execFile);

export interface DetectedRunner {
  runner: RunnerName;
  /** what decided it, for the evidence */
  evidence: string;
}

const SKIP_DIRS = new Set(["node_modules", ".git", ".venv", "venv", "__pycache__", "dist", "build", "vendor", ".tox"]);

async function exists(file: string): Promise<boolean> {
  return access(file, constants.F_OK).then(() => true, () => false);
}

async function readText(file: string): Promise<string | undefined> {
  return readFile(file, "utf8").catch(() => undefined);
}

/** Files under `root` (depth-limited, skipping dependency and build dirs) whose name passes `match`. */
async function findFile(root: string, match: (name: string) => boolean, depth = 4): Promise<string | undefined> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isFile() && match(entry.name)) return path.join(root, entry.name);
  if (depth === 0) return undefined;
  for (const entry of entries) {
    if (!entry.isDirectory() || SKIP_DIRS.has(entry.name) || entry.name.startsWith(".")) continue;
    const found = await findFile(path.join(root, entry.name), match, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

interface PackageJson {
  scripts: Record<string, unknown>;
  dependencies: string[];
}

async function readPackageJson(worktree: string): Promise<PackageJson | undefined> {
  const text = await readText(path.join(worktree, "package.json"));
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const section = (key: string): Record<string, unknown> => {
    const part = record[key];
    return typeof part === "object" && part !== null ? (part as Record<string, unknown>) : {};
  };
  const dependencies = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"].flatMap((key) => Object.keys(section(key)));
  return { scripts: section("scripts"), dependencies };
}

function fromTarget(target: string): DetectedRunner | undefined {
  const file = target.split("::")[0] ?? target;
  if (file.endsWith(".py") || target.includes("::")) return { runner: "pytest", evidence: `target ${target} is a Python test` };
  if (file.endsWith(".go") || file.endsWith("/...") || file === "...") return { runner: "go", evidence: `target ${target} is a Go package pattern` };
  return undefined;
}

export async function detectRunner(worktree: string, target: string): Promise<DetectedRunner> {
  const byTarget = fromTarget(target);
  if (byTarget !== undefined) return byTarget;
  const pkg = await readPackageJson(worktree);
  if (pkg?.dependencies.includes("vitest") === true) return { runner: "vitest", evidence: "package.json depends on vitest" };
  const testScript = pkg?.scripts["test"];
  if (typeof testScript === "string" && /(^|[\s;&|])node\s+(.*\s)?--test\b/.test(testScript)) {
    return { runner: "node", evidence: `package.json scripts.test is "${testScript}"` };
  }
  const jsTest = await findFile(worktree, (name) => /\.test\.(js|mjs|cjs)$/.test(name));
  if (jsTest !== undefined) return { runner: "node", evidence: `${path.relative(worktree, jsTest)} is a node test file (no vitest dependency)` };
  for (const marker of ["pytest.ini", "conftest.py"]) {
    if (await exists(path.join(worktree, marker))) return { runner: "pytest", evidence: `${marker} exists` };
  }
  if ((await readText(path.join(worktree, "pyproject.toml")))?.includes("[tool.pytest") === true) return { runner: "pytest", evidence: "pyproject.toml has [tool.pytest]" };
  if ((await readText(path.join(worktree, "setup.cfg")))?.includes("[tool:pytest]") === true) return { runner: "pytest", evidence: "setup.cfg has [tool:pytest]" };
  const pyTest = await findFile(worktree, (name) => /^test_.*\.py$/.test(name) || /_test\.py$/.test(name));
  if (pyTest !== undefined) return { runner: "pytest", evidence: `${path.relative(worktree, pyTest)} is a pytest file` };
  if (await exists(path.join(worktree, "go.mod"))) return { runner: "go", evidence: "go.mod exists" };
  throw new KodoError("TEST_RUNNER_UNKNOWN", `no test runner detected in ${worktree}: set the task's runner (pytest, node, vitest or go)`);
}

/** An executable on PATH (host side), as an absolute path. */
export async function onPath(program: string, envPath = process.env["PATH"] ?? ""): Promise<string | undefined> {
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, program);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

const pythonCache = new Map<string, string>();

/** The interpreter `python3` is in this worktree (pyenv's shim resolved; isolated mode runs no repo code). */
async function pythonExecutable(worktree: string): Promise<string> {
  const cached = pythonCache.get(worktree);
  if (cached !== undefined) return cached;
  const python = await onPath("python3");
  if (python === undefined) throw new KodoError("TEST_RUNNER_UNAVAILABLE", "python3 is not on PATH: pytest cannot run");
  let resolved = python;
  try {
    const { stdout } = await run(python, ["-I", "-c", "import sys; print(sys.executable)"], { cwd: worktree, timeout: 30_000 });
    const printed = stdout.trim();
    if (printed !== "" && path.isAbsolute(printed)) resolved = printed;
  } catch {
    // keep the shim: it still works, only slower
  }
  if (pythonCache.size >= 256) pythonCache.clear(); // one entry per worktree: keep a long-running server's map small
  pythonCache.set(worktree, resolved);
  return resolved;
}

/** vitest's entry (`node_modules/vitest/vitest.mjs`) from the worktree up to the file system root. */
async function vitestEntry(worktree: string): Promise<string> {
  let dir = worktree;
  for (;;) {
    const entry = path.join(dir, "node_modules", "vitest", "vitest.mjs");
    if (await exists(entry)) return realpath(entry);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new KodoError("TEST_RUNNER_UNAVAILABLE", `vitest is not installed for ${worktree} (no node_modules/vitest from there up): install the repository's dependencies, or give the task an explicit command`);
}

/** The runner's base command, absolute, as run inside the sandbox. */
export async function baseCommand(runner: RunnerName, worktree: string): Promise<string[]> {
  switch (runner) {
    case "pytest":
      return [await pythonExecutable(worktree), "-m", "pytest"];
    case "node":
      return [process.execPath];
    case "vitest":
      return [process.execPath, await vitestEntry(worktree)];
    case "go": {
      const go = await onPath("go");
      if (go === undefined) throw new KodoError("TEST_RUNNER_UNAVAILABLE", "go is not on PATH: go tests cannot run (Debian: apt-get install golang-go)");
      return [go];
    }
  }
}
