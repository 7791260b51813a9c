/**
 * `kodo doctor` as a user runs it: the built binary on a real (empty or broken) kodo home, its exit
 * code, the human report and the one JSON document of `--json`.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIN, assertBuilt, type BinaryResult } from "./support/built-binary.js";

/** Like runKodo, with room for the doctor's own deadline (45 s) on a loaded machine. */
function doctor(argv: string[], home: string): Promise<BinaryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "doctor", ...argv], { env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), KODO_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Report {
  ok: boolean;
  home: string;
  checks: Array<{ id: string; status: string; summary: string; fix?: string; details?: Record<string, unknown> }>;
}

describe("kodo doctor", { timeout: 120_000 }, () => {
  const homes: string[] = [];
  const home = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-doctor-"));
    homes.push(dir);
    return dir;
  };
  beforeAll(() => assertBuilt([["cli/src", "cli/dist"], ["server/src", "server/dist"]]));
  afterAll(async () => {
    for (const dir of homes) await rm(dir, { recursive: true, force: true });
  });

  it("--json prints one document {ok, home, checks} and exits 0 when nothing FAILs", async () => {
    const dir = await home();
    const result = await doctor(["--json"], dir);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as Report;
    expect(Object.keys(report)).toEqual(["ok", "home", "checks"]);
    expect(report.home).toBe(dir);
    expect(report.checks.length).toBe(16);
    for (const check of report.checks) {
      expect(Object.keys(check).every((key) => ["id", "status", "summary", "fix", "details"].includes(key))).toBe(true);
      expect(check.id).toMatch(/^[a-z][a-z.-]*$/);
      expect(["PASS", "WARN", "FAIL"]).toContain(check.status);
      expect(check.summary).toMatch(/\S/);
      if (check.status !== "PASS") expect(check.fix).toMatch(/\S/);
    }
    expect(report.ok).toBe(report.checks.every((check) => check.status !== "FAIL"));
    expect(report.checks.find((check) => check.id === "kodo.server")?.status).toBe("WARN");
    expect(result.code).toBe(report.ok ? 0 : 1);
  });

  it("prints a line per check with the fix under it, and exits 1 on a FAIL", async () => {
    const dir = await home();
    await writeFile(path.join(dir, "server.json"), "{ not json", { mode: 0o600 });
    const result = await doctor([], dir);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`kodo doctor: ${dir}`);
    const failing = lines.findIndex((line) => /^FAIL {2}kodo\.server +.*server\.json is unreadable: not valid JSON$/.test(line));
    expect(failing).toBeGreaterThan(0);
    expect(lines[failing + 1]).toMatch(/^ +fix: remove .*server\.json; kodo serve writes it again$/);
    expect(lines.at(-1)).toMatch(/^\d+ passed, \d+ warnings, [1-9]\d* failed$/);
  });

  it("refuses a --stuck-minutes that is not a number (exit 2)", async () => {
    const result = await doctor(["--stuck-minutes", "soon"], await home());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--stuck-minutes must be a whole number");
  });
});
