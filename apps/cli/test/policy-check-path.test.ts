/**
 * `kodo policy check-path` as a user runs it: the built binary, real files, no kodo server
 * (KODO_HOME is an empty directory and KODO_URL is unset). Build first: `npx tsc -b apps/cli`.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const APPS = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = path.join(APPS, "cli", "dist", "main.js");

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let base: string;

function kodo(argv: string[], cwd: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env["PATH"] ?? "", HOME: base, KODO_HOME: path.join(base, "home") };
    const child = spawn(process.execPath, [MAIN, ...argv], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function newest(dir: string, extension: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(extension))
    .reduce((latest, entry) => Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs), 0);
}

describe("kodo policy check-path (the built binary)", { timeout: 30_000 }, () => {
  let wt: string;

  beforeAll(() => {
    for (const [sources, output] of [
      ["cli/src", "cli/dist"],
      ["server/src/verify", "server/dist/verify"],
    ] as const) {
      if (newest(path.join(APPS, sources), ".ts") > newest(path.join(APPS, output), ".js")) {
        throw new Error(`apps/${output} is older than apps/${sources}: run \`npx tsc -b apps/cli\` first`);
      }
    }
    base = realpathSync(mkdtempSync(path.join(os.tmpdir(), "kodo-cli-policy-")));
    wt = path.join(base, "wt");
    mkdirSync(path.join(wt, "tests"), { recursive: true });
    mkdirSync(path.join(base, "home"));
    writeFileSync(path.join(wt, "tests", "test_a.py"), "def test_a(): pass\n");
    writeFileSync(path.join(base, "secret.py"), "x\n");
    symlinkSync("../../secret.py", path.join(wt, "tests", "link.py"));
  });
  afterAll(() => {
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it("exits 0 and prints {allowed, code, reason, resolved} for a path inside the root", async () => {
    const result = await kodo(["policy", "check-path", "--root", "tests", "tests/test_a.py::test_a", "--json"], wt);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(document).sort()).toEqual(["allowed", "code", "reason", "resolved"]);
    expect(document).toMatchObject({ allowed: true, code: "ALLOWED", resolved: `${path.join(wt, "tests", "test_a.py")}::test_a` });
    expect(document["reason"]).toEqual(expect.stringContaining("inside the root"));
  });

  it("exits 1 for a denied path: JSON with the code, or one human line", async () => {
    const json = await kodo(["--json", "policy", "check-path", "--root", "tests", "tests/link.py"], wt);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ allowed: false, code: "TARGET_OUTSIDE_ROOTS", resolved: path.join(base, "secret.py") });

    const human = await kodo(["policy", "check-path", "--root", path.join(wt, "tests"), "../secret.py"], wt);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^denied \(TARGET_OUTSIDE_ROOTS\): "\.\.\/secret\.py" resolves to .*\n$/);
    expect(human.stderr).toBe("");

    const emptyRoot = await kodo(["policy", "check-path", "--root", "", "tests/test_a.py"], wt);
    expect(emptyRoot.code).toBe(1);
    expect(emptyRoot.stdout).toContain("denied (ROOT_INVALID)");
  });

  it("exits 2 with the usage when --root or PATH is missing", async () => {
    for (const argv of [["policy", "check-path", "tests/test_a.py"], ["policy", "check-path", "--root", "tests"], ["policy", "check-path", "--root"]]) {
      const result = await kodo(argv, wt);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("Usage: kodo policy check-path --root DIR PATH [--json]");
    }
    const json = await kodo(["policy", "check-path", "tests/test_a.py", "--json"], wt);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "USAGE", message: "--root is required" } });
  });

  it("is listed in kodo --help", async () => {
    const result = await kodo(["--help"], wt);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Policy:\n\s+policy check-path PATH\s+Is PATH inside/);
  });
});
