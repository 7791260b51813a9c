/**
 * `kodo verify` and the usage side of `kodo ci run` as a user runs them: the built binary, real
 * files, no kodo server. Build first: `npx tsc -b apps/cli`.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBundle } from "@kodo/server/evidence";
import { assertBuilt, runKodo, type BinaryResult } from "./support/built-binary.js";

let base: string;

function kodo(argv: string[]): Promise<BinaryResult> {
  return runKodo(argv, base, { PATH: process.env["PATH"] ?? "", HOME: base });
}

async function bundle(name: string): Promise<string> {
  const dir = path.join(base, name);
  await writeBundle(dir, [
    { path: "plan.json", content: "{}\n" },
    { path: "artifacts/diff.patch", content: "+x\n" },
  ]);
  return dir;
}

beforeAll(() => {
  assertBuilt([
    ["cli/src", "cli/dist"],
    ["server/src/evidence", "server/dist/evidence"],
  ]);
  base = mkdtempSync(path.join(os.tmpdir(), "kodo-cli-verify-"));
});
afterAll(() => {
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
});

describe("kodo verify (the built binary)", { timeout: 30_000 }, () => {
  it("exits 0 for a bundle that matches its manifest", async () => {
    const dir = await bundle("good");
    const result = await kodo(["verify", "good"]);
    expect(result).toEqual({ code: 0, stdout: `evidence OK: 2 files in ${dir} match the manifest and their sidecars\n`, stderr: "" });
    const json = await kodo(["verify", dir, "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ dir, ok: true, missing: [], extra: [], changed: [], files: 2 });
  });

  it("exits 1 naming each missing, extra and changed file", async () => {
    const dir = await bundle("bad");
    writeFileSync(path.join(dir, "plan.json"), "{\"x\":1}\n");
    unlinkSync(path.join(dir, "artifacts", "diff.patch.sha256"));
    writeFileSync(path.join(dir, "notes.txt"), "later\n");
    const result = await kodo(["verify", dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("missing  artifacts/diff.patch.sha256\nextra    notes.txt\nchanged  plan.json\n");
    expect(result.stderr).toBe(`kodo: EVIDENCE_MISMATCH: ${dir}: 1 missing, 1 extra, 1 changed\n`);
    const json = await kodo(["verify", dir, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, missing: ["artifacts/diff.patch.sha256"], extra: ["notes.txt"], changed: ["plan.json"] });
  });

  it("exits 2 for a directory that does not exist", async () => {
    const result = await kodo(["verify", "no-such-dir"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`kodo: USAGE: ${path.join(base, "no-such-dir")} is not a directory`);
  });
});

describe("kodo ci run usage (the built binary)", { timeout: 30_000 }, () => {
  it("lists its options and exit codes in the help", async () => {
    const help = await kodo(["ci", "run", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: kodo ci run --task-file F --mission-timeout SECONDS [--out DIR] [--keep-home] [--json]");
    expect((await kodo(["--help"])).stdout).toContain("CI and evidence:");
  });

  it("exits 4 for a usage mistake (2 means a mission timeout there)", async () => {
    const result = await kodo(["ci", "run", "--task-file", "t.yaml", "--mission-timeout", "0"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("kodo: USAGE: --mission-timeout must be a whole number from 1 to 604800");
    expect((await kodo(["ci", "run", "--mission-timeout", "5", "--bogus"])).code).toBe(4);
  });
});
