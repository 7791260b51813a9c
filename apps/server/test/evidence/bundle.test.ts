import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { sealBundle, verifyBundle, writeBundle, type BundleEntry } from "../../src/evidence/bundle.js";
import { sidecarLine } from "../../src/evidence/sidecar.js";

const execFileAsync = promisify(execFile);
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-bundle-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

const ENTRIES: BundleEntry[] = [
  { path: "plan.json", content: '{"summary":"x"}\n' },
  { path: "artifacts/diff.patch", content: "--- a\n+++ b\n" },
  { path: "ledger.json", content: Buffer.from([0, 1, 2, 255]) },
];

async function bundle(entries: readonly BundleEntry[] = ENTRIES): Promise<string> {
  const dir = path.join(await tempDir(), "evidence");
  await writeBundle(dir, entries, { runId: "run_abc123", taskId: "tsk_abc123", createdAt: new Date("2025-01-02T03:04:05Z") });
  return dir;
}

describe("writeBundle", () => {
  it("writes every file with a sha256sum -b sidecar and a manifest with its own sidecar", async () => {
    const dir = await bundle();
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: "kodo-evidence/1", runId: "run_abc123", taskId: "tsk_abc123", kodoVersion: "0.1.0", createdAt: "2025-01-02T03:04:05.000Z" });
    expect(manifest["files"]).toEqual([
      { path: "artifacts/diff.patch", sha256: sha("--- a\n+++ b\n"), bytes: 12 },
      { path: "ledger.json", sha256: createHash("sha256").update(Buffer.from([0, 1, 2, 255])).digest("hex"), bytes: 4 },
      { path: "plan.json", sha256: sha('{"summary":"x"}\n'), bytes: 16 },
    ]);
    expect(await readFile(path.join(dir, "plan.json.sha256"), "utf8")).toBe(`${sha('{"summary":"x"}\n')} *plan.json\n`);
    // the sidecar names the file relative to its own directory
    expect(await readFile(path.join(dir, "artifacts", "diff.patch.sha256"), "utf8")).toBe(`${sha("--- a\n+++ b\n")} *diff.patch\n`);
    const manifestText = await readFile(path.join(dir, "manifest.json"), "utf8");
    expect(await readFile(path.join(dir, "manifest.json.sha256"), "utf8")).toBe(`${sha(manifestText)} *manifest.json\n`);
  });

  it("writes sidecars GNU sha256sum -c accepts", async () => {
    const dir = await bundle();
    for (const [cwd, sidecar] of [[dir, "plan.json.sha256"], [dir, "manifest.json.sha256"], [path.join(dir, "artifacts"), "diff.patch.sha256"]] as const) {
      const { stdout } = await execFileAsync("sha256sum", ["-c", sidecar], { cwd, env: { ...process.env, LC_ALL: "C" } });
      expect(stdout).toMatch(/: OK\n$/);
    }
  });

  it("escapes names with a backslash or newline the way GNU sha256sum does", async () => {
    const dir = await bundle([{ path: "odd\\name", content: "x" }]);
    expect(sidecarLine(sha("x"), "odd\\name")).toBe(`\\${sha("x")} *odd\\\\name\n`);
    const { stdout } = await execFileAsync("sha256sum", ["-c", "odd\\name.sha256"], { cwd: dir, env: { ...process.env, LC_ALL: "C" } });
    expect(stdout).toContain("OK");
    expect((await verifyBundle(dir)).ok).toBe(true);
  });

  it("sorts the manifest by path in byte order (LC_ALL=C), not by locale", async () => {
    const dir = await bundle(["é", "a", "_", "B", "a/b", "Z.txt", "a.b"].map((name) => ({ path: name === "a" ? "a.json" : name, content: name })));
    const manifest = JSON.parse(await readFile(path.join(dir, "manifest.json"), "utf8")) as { files: Array<{ path: string }> };
    const paths = manifest.files.map((file) => file.path);
    expect(paths).toEqual(["B", "Z.txt", "_", "a.b", "a.json", "a/b", "é"]);
    // what the C locale's sort makes of the same names
    const cSorted = await new Promise<string>((resolve, reject) => {
      const child = execFile("sort", [], { env: { ...process.env, LC_ALL: "C" } }, (error, out) => (error === null ? resolve(out) : reject(error)));
      child.stdin?.end(`${[...paths].reverse().join("\n")}\n`);
    });
    expect(cSorted.trimEnd().split("\n")).toEqual(paths);
  });

  it("copies source files in and hashes what landed in the bundle", async () => {
    const source = path.join(await tempDir(), "big.log");
    await writeFile(source, "line\n".repeat(100_000));
    const dir = await bundle([{ path: "logs/big.log", sourceFile: source }]);
    expect(await readFile(path.join(dir, "logs", "big.log"), "utf8")).toBe("line\n".repeat(100_000));
    expect(await verifyBundle(dir)).toEqual({ ok: true, missing: [], extra: [], changed: [], files: 1 });
  });

  it("refuses paths that leave the bundle, repeat, or take a sidecar's or the manifest's name", async () => {
    for (const bad of ["../x", "/etc/x", "a//b", "./a", "plan.json.sha256", "manifest.json", ""]) {
      await expect(writeBundle(path.join(await tempDir(), "b"), [{ path: bad, content: "x" }]), bad).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    }
    await expect(writeBundle(path.join(await tempDir(), "b"), [{ path: "a", content: "1" }, { path: "a", content: "2" }])).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });
});

describe("verifyBundle", () => {
  it("accepts a bundle as written", async () => {
    expect(await verifyBundle(await bundle())).toEqual({ ok: true, missing: [], extra: [], changed: [], files: 3 });
  });

  it("names a file whose bytes changed", async () => {
    const dir = await bundle();
    await writeFile(path.join(dir, "plan.json"), '{"summary":"y"}\n');
    expect(await verifyBundle(dir)).toEqual({ ok: false, missing: [], extra: [], changed: ["plan.json"], files: 3 });
  });

  it("names a changed file even when its sidecar was rewritten to match (the manifest disagrees)", async () => {
    const dir = await bundle();
    await writeFile(path.join(dir, "artifacts", "diff.patch"), "forged\n");
    await writeFile(path.join(dir, "artifacts", "diff.patch.sha256"), sidecarLine(sha("forged\n"), "diff.patch"));
    expect((await verifyBundle(dir)).changed).toEqual(["artifacts/diff.patch", "artifacts/diff.patch.sha256"]);
  });

  it("names a deleted file and a deleted sidecar as missing", async () => {
    const dir = await bundle();
    await unlink(path.join(dir, "ledger.json"));
    await unlink(path.join(dir, "plan.json.sha256"));
    expect(await verifyBundle(dir)).toEqual({ ok: false, missing: ["ledger.json", "plan.json.sha256"], extra: [], changed: [], files: 3 });
  });

  it("names files that are there but not listed as extra (a sidecar of one too)", async () => {
    const dir = await bundle();
    await writeFile(path.join(dir, "notes.txt"), "added later\n");
    await writeFile(path.join(dir, "notes.txt.sha256"), sidecarLine(sha("added later\n"), "notes.txt"));
    await writeFile(path.join(dir, "artifacts", "extra.bin"), "x");
    expect(await verifyBundle(dir)).toEqual({ ok: false, missing: [], extra: ["artifacts/extra.bin", "notes.txt", "notes.txt.sha256"], changed: [], files: 3 });
  });

  it("catches an edited manifest through its sidecar", async () => {
    const dir = await bundle();
    const file = path.join(dir, "manifest.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as { files: Array<{ path: string; sha256: string }> };
    // hide a change: rewrite the file, its sidecar and its manifest entry, but not the manifest's sidecar
    await writeFile(path.join(dir, "plan.json"), "{}\n");
    await writeFile(path.join(dir, "plan.json.sha256"), sidecarLine(sha("{}\n"), "plan.json"));
    manifest.files = manifest.files.map((entry) => (entry.path === "plan.json" ? { ...entry, sha256: sha("{}\n"), bytes: 3 } : entry));
    await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
    expect(await verifyBundle(dir)).toMatchObject({ ok: false, changed: ["manifest.json"] });
  });

  it("treats a manifest that lists paths outside the bundle as changed, and never reads them", async () => {
    const dir = await bundle();
    const file = path.join(dir, "manifest.json");
    const manifest = JSON.parse(await readFile(file, "utf8")) as { files: Array<{ path: string; sha256: string; bytes: number }> };
    manifest.files.push({ path: "../../etc/passwd", sha256: "0".repeat(64), bytes: 1 });
    const text = `${JSON.stringify(manifest, null, 2)}\n`;
    await writeFile(file, text);
    await writeFile(`${file}.sha256`, sidecarLine(sha(text), "manifest.json"));
    const verdict = await verifyBundle(dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.changed).toEqual(["manifest.json"]);
  });

  it("reports a missing manifest, and everything else as extra", async () => {
    const dir = await bundle();
    await unlink(path.join(dir, "manifest.json"));
    const verdict = await verifyBundle(dir);
    expect(verdict.missing).toEqual(["manifest.json"]);
    expect(verdict.extra).toContain("plan.json");
  });

  it("does not follow a symlink put in place of a listed file", async () => {
    const dir = await bundle();
    const outside = path.join(await tempDir(), "same.json");
    await writeFile(outside, '{"summary":"x"}\n');
    await unlink(path.join(dir, "plan.json"));
    await symlink(outside, path.join(dir, "plan.json"));
    expect((await verifyBundle(dir)).changed).toEqual(["plan.json"]);
  });

  it("is NOT_FOUND for a directory that does not exist", async () => {
    await expect(verifyBundle(path.join(os.tmpdir(), "kodo-no-such-bundle-dir"))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("sealBundle", () => {
  it("turns a directory written file by file into a bundle that verifies, and catches a later change", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "run_summary.json"), '{"final_verdict":"PASS"}\n');
    await writeFile(path.join(dir, "notes.txt"), "one\n");
    // a file that already has its sidecar keeps a correct one
    await writeFile(path.join(dir, "notes.txt.sha256"), sidecarLine(sha("one\n"), "notes.txt"));
    const manifest = await sealBundle(dir, { runId: "RUN_0001" });
    expect(manifest.files.map((file) => file.path)).toEqual(["notes.txt", "run_summary.json"]);
    expect(await verifyBundle(dir)).toMatchObject({ ok: true, missing: [], extra: [], changed: [] });
    await writeFile(path.join(dir, "notes.txt"), "two\n");
    expect(await verifyBundle(dir)).toMatchObject({ ok: false, changed: ["notes.txt"] });
  });
});
