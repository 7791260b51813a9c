import { z } from "zod";
import { Budget } from "./budget.js";

export const TestRunner = z.enum(["pytest", "node", "vitest", "go"]);
export type TestRunner = z.infer<typeof TestRunner>;

/** How a task's work is verified: the build → test → fix loop. */
export const VerifyConfig = z
  .object({
    /** what to run: a file or directory (pytest node ids allowed) inside the repository's test roots */
    target: z.string().trim().min(1, "target must not be empty"),
    runner: TestRunner.optional(),
    /** one test run's timeout */
    timeoutSeconds: z.number().int().positive().max(3600).default(300),
    /** all test runs of the task together */
    budgetSeconds: z.number().int().positive().max(24 * 3600).default(600),
    /** build attempts, the first included */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** reruns of the failed tests alone, to tell a flake from a failure */
    rerunFailed: z.number().int().min(0).max(5).default(1),
    /** run tests without the kernel sandbox when bubblewrap is unavailable (said in the evidence) */
    allowUnsandboxed: z.boolean().default(false),
  })
  .strict();
export type VerifyConfig = z.infer<typeof VerifyConfig>;

export const TestClass = z.enum(["PASSED", "TEST_TIMEOUT", "TEST_FLAKE", "TEST_FAILURE", "TEST_COLLECTION_ERROR"]);
export type TestClass = z.infer<typeof TestClass>;

export const RepoSettings = z.object({
  repoPath: z.string(),
  /** directories (relative to the repository root) that test targets must lie in */
  testRoots: z.array(z.string()),
  runner: TestRunner.nullable(),
  /** limits for every task of the repository (a task's own budget can only be lower) */
  budget: Budget.nullable(),
  updatedAt: z.string(),
});
export type RepoSettings = z.infer<typeof RepoSettings>;

export const PutRepoSettingsRequest = z
  .object({
    repoPath: z.string().min(1),
    testRoots: z.array(z.string().trim().min(1)).max(50),
    runner: TestRunner.optional(),
    budget: Budget.optional(),
  })
  .strict();

export const TestResultView = z.object({
  attempt: z.number().int(),
  class: TestClass,
  reason: z.string(),
  runner: z.string(),
  command: z.array(z.string()),
  counts: z.object({ passed: z.number().int(), failed: z.number().int(), errors: z.number().int(), skipped: z.number().int(), total: z.number().int() }),
  failed: z.array(z.object({ id: z.string(), message: z.string() })),
  durationMs: z.number().int(),
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  sandboxed: z.boolean(),
  notes: z.array(z.string()),
  artifacts: z.array(z.object({ name: z.string(), path: z.string(), sha256: z.string(), bytes: z.number().int() })),
});
export type TestResultView = z.infer<typeof TestResultView>;

export const RetryContext = z.object({
  class: TestClass,
  failedTests: z.array(z.string()),
  errors: z.array(z.string()),
  suggestion: z.string(),
});
export type RetryContext = z.infer<typeof RetryContext>;

export const Attempt = z.object({
  attempt: z.number().int(),
  summary: z.string(),
  retryContext: RetryContext.nullable(),
  test: TestResultView.nullable(),
});
export type Attempt = z.infer<typeof Attempt>;
