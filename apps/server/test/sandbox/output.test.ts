/**
 * Output capture: head and tail within the budget around a visible marker, exact byte counts,
 * and the full streams on disk with their sha256 — through the real sandbox, plus the capture
 * itself on UTF-8 edges.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSandboxed } from "../../src/sandbox/index.js";
import { OutputCapture, truncationMarker } from "../../src/sandbox/output-capture.js";
import { baseSpec, endLeftovers, removeTempDirs, tempDir } from "./helpers.js";

const FIVE_MB = 5 * 1024 * 1024;
let root: string;
let worktree: string;

beforeAll(() => {
  root = tempDir("output");
  worktree = path.join(root, "worktree");
  fs.mkdirSync(worktree);
});

afterAll(() => {
  const left = endLeftovers();
  removeTempDirs();
  expect(left).toEqual([]);
});

function expectedYes(bytes: number): Buffer {
  return Buffer.from("kodo\n".repeat(Math.ceil(bytes / 5))).subarray(0, bytes);
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

describe("output through the sandbox", () => {
  it("keeps 5 MB of stdout within the limit, with the marker, the right total and the full file's sha256", async () => {
    const outDir = path.join(root, "evidence", "run-1");
    const result = await runSandboxed(
      baseSpec(worktree, { command: ["/bin/sh", "-c", `yes kodo | head -c ${FIVE_MB}; echo oops >&2`], fullOutputDir: outDir }),
    );
    expect(result.exitCode).toBe(0);
    const { stdout, stderr } = result;
    expect(stdout.totalBytes).toBe(FIVE_MB);
    expect(stdout.truncated).toBe(true);
    expect(Buffer.byteLength(stdout.text)).toBeLessThanOrEqual(50 * 1024);
    expect(Buffer.byteLength(stdout.text)).toBeGreaterThan(49 * 1024);
    const marker = /\n… \[(\d+) bytes truncated\] …\n/.exec(stdout.text);
    expect(marker).not.toBeNull();
    const [head, tail] = stdout.text.split(marker?.[0] ?? "");
    const expected = expectedYes(FIVE_MB);
    expect(Buffer.byteLength(head ?? "") + Buffer.byteLength(tail ?? "") + Number(marker?.[1])).toBe(FIVE_MB);
    expect(expected.subarray(0, Buffer.byteLength(head ?? "")).toString()).toBe(head);
    expect(expected.subarray(FIVE_MB - Buffer.byteLength(tail ?? "")).toString()).toBe(tail);

    expect(stdout.file?.path).toBe(path.join(outDir, "stdout.log"));
    expect(stdout.file?.sha256).toBe(sha256(expected));
    expect(sha256(fs.readFileSync(path.join(outDir, "stdout.log")))).toBe(stdout.file?.sha256);
    expect(stderr).toEqual({ text: "oops\n", truncated: false, totalBytes: 5, file: { path: path.join(outDir, "stderr.log"), sha256: sha256(Buffer.from("oops\n")) } });
  });

  it("keeps small output whole, with no file unless asked", async () => {
    const result = await runSandboxed(baseSpec(worktree, { command: ["/bin/sh", "-c", "printf 'héllo\\n'; printf 'warn' >&2"] }));
    expect(result.stdout).toEqual({ text: "héllo\n", truncated: false, totalBytes: 7 });
    expect(result.stderr).toEqual({ text: "warn", truncated: false, totalBytes: 4 });
  });

  it("honours a custom limit", async () => {
    const result = await runSandboxed(baseSpec(worktree, { command: ["/bin/sh", "-c", "seq 1 100000"], maxOutputBytes: 200 }));
    expect(Buffer.byteLength(result.stdout.text)).toBeLessThanOrEqual(200);
    expect(result.stdout.text.startsWith("1\n2\n3\n")).toBe(true);
    expect(result.stdout.text.endsWith("99999\n100000\n")).toBe(true);
    expect(result.stdout.totalBytes).toBe(588_895);
  });
});

describe("OutputCapture", () => {
  async function capture(chunks: Buffer[], limit: number): Promise<{ text: string; truncated: boolean; totalBytes: number }> {
    const output = new OutputCapture(limit);
    for (const chunk of chunks) output.write(chunk);
    return (await output.finish()).output;
  }

  it("returns everything up to the limit exactly, in one chunk or many", async () => {
    const data = Buffer.from("x".repeat(100));
    expect(await capture([data], 100)).toEqual({ text: data.toString(), truncated: false, totalBytes: 100 });
    const bytes = [...data].map((byte) => Buffer.from([byte]));
    expect((await capture(bytes, 100)).text).toBe(data.toString());
  });

  it("never splits a UTF-8 character and never exceeds the byte limit", async () => {
    const data = Buffer.from("é€😀".repeat(500));
    for (const limit of [60, 61, 62, 63, 100, 101, 257]) {
      for (const chunkSize of [1, 3, 7, 4096]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < data.length; at += chunkSize) chunks.push(data.subarray(at, at + chunkSize));
        const result = await capture(chunks, limit);
        expect(result.truncated).toBe(true);
        expect(result.totalBytes).toBe(data.length);
        expect(Buffer.byteLength(result.text)).toBeLessThanOrEqual(limit);
        expect(result.text).not.toContain("\uFFFD");
        const dropped = Number(/\[(\d+) bytes truncated\]/.exec(result.text)?.[1]);
        expect(Buffer.byteLength(result.text) - Buffer.byteLength(truncationMarker(dropped)) + dropped).toBe(data.length);
      }
    }
  });

  it("still marks the cut when the limit is too small for any content", async () => {
    const result = await capture([Buffer.from("y".repeat(10_000))], Buffer.byteLength(truncationMarker(10_000)));
    expect(result.text).toBe(truncationMarker(10_000));
    expect(await capture([Buffer.from("y".repeat(10_000))], 5)).toEqual({ text: "", truncated: true, totalBytes: 10_000 });
  });
});
