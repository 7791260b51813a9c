import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { expect } from "vitest";
import { runTests, type RunTestsOptions } from "../../src/verify/executor.js";
import type { TestRun } from "../../src/verify/types.js";
import { processesMentioning } from "../support/processes.js";
import { tempDir } from "./fixture-repos.js";

let counter = 0;

/** runTests with a fresh artifacts dir and a marker in the environment (to find leftover processes). */
export async function run(worktree: string, options: Partial<RunTestsOptions> = {}): Promise<{ result: TestRun; marker: string }> {
  counter += 1;
  const marker = `kodo-verify-test-${process.pid}-${counter}-${Date.now()}`;
  const result = await runTests({
    worktree,
    target: ".",
    budget: { remainingMs: 120_000 },
    artifactsDir: tempDir("kodo-artifacts-"),
    ...options,
    env: { KODO_TEST_MARKER: marker, ...options.env },
  });
  return { result, marker };
}

/** Nothing the run started is still alive (the sandbox ends them before runTests returns). */
export async function expectNoProcessLeft(marker: string): Promise<void> {
  expect(await processesMentioning(marker)).toEqual([]);
}

/** Every artifact's file exists with the recorded size and sha256. */
export function expectArtifactsIntact(result: TestRun): void {
  for (const artifact of result.artifacts) {
    expect(statSync(artifact.path).size, artifact.name).toBe(artifact.bytes);
    expect(createHash("sha256").update(readFileSync(artifact.path)).digest("hex"), artifact.name).toBe(artifact.sha256);
  }
}

export function artifactNames(result: TestRun): string[] {
  return result.artifacts.map((artifact) => artifact.name).sort();
}
