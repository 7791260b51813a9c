/**
 * The build → test → fix loop against the real stack: the scripted agent writes a bug, the real
 * test runner (node --test, sandboxed) fails, the next build prompt carries the failed test, the
 * second attempt fixes it. And a task that never gets green ends Failed with the class.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { ExecuteResponse, RepoSettings, Run, Task } from "@kodo/contracts";
import { DEMO_TASK } from "../../src/demo/run-demo.js";
import { ok, request } from "../support/api.js";
import { CLI } from "../support/kodo-process.js";
import { demoScriptWith } from "../support/scripts.js";
import { runEnded, startStack, stopStack, type Stack } from "../support/stack.js";

const BUGGY = 'export function slugify(text) {\n  return text.trim().split(/\\s+/).join("-");\n}\n';
const FIXED = 'export function slugify(text) {\n  return text.trim().toLowerCase().split(/\\s+/).filter(Boolean).join("-");\n}\n';
const TEST = [
  'import { test } from "node:test";',
  'import assert from "node:assert/strict";',
  'import { slugify } from "../src/slugify.js";',
  'test("slugify lowercases and joins words", () => {',
  '  assert.equal(slugify("  Hello World "), "hello-world");',
  "});",
  "",
].join("\n");

const execFileAsync = promisify(execFile);
const write = (filePath: string, content: string) => ({ toolCalls: [{ name: "write", arguments: { filePath, content } }] });

let stack: Stack;

beforeAll(async () => {
  const script = demoScriptWith({});
  const planAt = script.rules.findIndex((rule) => rule.name === "plan");
  script.rules.splice(
    planAt + 1,
    0,
    // second attempt of the fixable task: the prompt says which test failed; write the fix
    { name: "fix-write-source", when: { user: "KODO-ATTEMPT: 2", anyUser: "VERIFY-FIXABLE", toolResults: 0 }, reply: write("src/slugify.js", FIXED) },
    { name: "fix-summary", when: { user: "KODO-ATTEMPT: 2", anyUser: "VERIFY-FIXABLE", toolResults: 1 }, reply: { text: "Fixed: slugify now lowercases." } },
    // first attempt of both tasks, and every attempt of the hopeless one: a bug and its test
    { name: "bug-write-source", when: { user: "VERIFY-", toolResults: 0 }, reply: write("src/slugify.js", BUGGY) },
    { name: "bug-write-test", when: { user: "VERIFY-", toolResults: 1 }, reply: write("test/slugify.test.js", TEST) },
    { name: "bug-summary", when: { user: "VERIFY-", toolResults: 2 }, reply: { text: "Added slugify and its test." } },
  );
  stack = await startStack({ prefix: "kodo-verify-", script });
  const { kodo, repo, home } = stack;
  // the repository's test roots, set through the CLI against the real server
  const { stdout } = await execFileAsync(process.execPath, [CLI, "repo", "settings", "--repo", repo, "--test-roots", "test", "--test-runner", "node", "--json", "--url", kodo.url], {
    env: { ...process.env, KODO_HOME: home },
  });
  expect(JSON.parse(stdout) as RepoSettings).toMatchObject({ testRoots: ["test"], runner: "node" });
  const read = await request(kodo.url, "GET", `/api/repos/settings?repoPath=${encodeURIComponent(repo)}`);
  expect(read.body).toMatchObject({ testRoots: ["test"], runner: "node" });
}, 180_000);

afterAll(() => stopStack(stack), 120_000);

async function runTask(marker: string, maxAttempts: number, target = "test/slugify.test.js"): Promise<Run> {
  const { kodo, repo } = stack;
  const task = await ok<Task>(kodo.url, "POST", "/api/tasks", {
    title: `Verify ${marker}`,
    prompt: `${DEMO_TASK.prompt} ${marker}`,
    repoPath: repo,
    planApproval: "auto",
    verify: { target, maxAttempts, timeoutSeconds: 60 },
  });
  const { runId } = await ok<ExecuteResponse>(kodo.url, "POST", `/api/tasks/${task.id}/execute`);
  return runEnded(kodo.url, runId);
}

describe("build → test → fix", () => {
  it("a failing test goes back to the agent with its id, and the second attempt gets it green", async () => {
    const run = await runTask("VERIFY-FIXABLE", 3);
    expect(run.error).toBeNull();
    expect(run.status).toBe("Done");
    expect(run.attempts).toHaveLength(2);
    const [first, second] = run.attempts;
    expect(first!.test?.class).toBe("TEST_FAILURE");
    expect(first!.test?.sandboxed).toBe(true);
    const failedId = first!.test!.failed[0]!.id;
    expect(failedId).toContain("slugify lowercases and joins words");
    expect(second!.retryContext?.failedTests).toContain(failedId);
    expect(second!.test?.class).toBe("PASSED");
    expect(second!.test?.counts.passed).toBe(1);
    // the model's second build turn was told which test failed
    const fixRequest = stack.model.stats().log.find((entry) => entry.rule === "fix-write-source");
    expect(fixRequest?.lastUser).toContain(failedId);
    expect(run.history.map((change) => change.to)).toEqual([
      "Planning", "PlanningReview", "InProgress", "AiReview", "InProgress", "AiReview", "Done",
    ]);
    expect(run.history[4]!.reason).toContain("TEST_FAILURE");
    expect(run.artifacts.some((artifact) => artifact.kind === "test")).toBe(true);
  });

  it("a task that never gets green ends Failed with TEST_FAILURE after maxAttempts", async () => {
    const run = await runTask("VERIFY-HOPELESS", 2);
    expect(run.status).toBe("Failed");
    expect(run.error?.code).toBe("TEST_FAILURE");
    expect(run.attempts).toHaveLength(2);
    expect(run.attempts.every((attempt) => attempt.test?.class === "TEST_FAILURE")).toBe(true);
  });

  it("a target outside the repository's test roots is refused, fail closed", async () => {
    const run = await runTask("VERIFY-OUTSIDE", 1, "src/slugify.js");
    expect(run.status).toBe("Failed");
    expect(run.error?.code).toBe("TARGET_OUTSIDE_ROOTS");
    expect(run.attempts[0]?.test ?? null).toBeNull();
  });
});
