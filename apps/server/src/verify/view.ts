/** A TestRun as the API and the store show it (the contracts' TestResultView). */
import type { TestResultView } from "@kodo/contracts";
import type { TestRun } from "./types.js";

export function testResultView(run: TestRun, attempt: number): TestResultView {
  return {
    attempt,
    class: run.class,
    reason: run.reason,
    runner: run.runner,
    command: [...run.command],
    counts: { ...run.counts },
    failed: run.failed.map((test) => ({ id: test.id, message: test.message })),
    durationMs: Math.round(run.durationMs),
    exitCode: run.exitCode,
    timedOut: run.timedOut,
    sandboxed: run.sandboxed,
    notes: [...run.notes],
    artifacts: run.artifacts.map((artifact) => ({ ...artifact })),
  };
}
