import type { ActivityItem } from "@kodo/contracts";
import { describe, expect, it } from "vitest";
import { ActivityLines, summarizeActivity } from "../src/format-events.js";
import { formatAttempts, formatRun, formatTaskTable, truncate } from "../src/format.js";
import { makeRun, makeTask } from "./support/fixtures.js";

const item = (kind: string, data: Record<string, unknown>, itemId = "prt_1"): ActivityItem => ({
  seq: 1,
  sessionId: "ses_1",
  itemId,
  messageId: "msg_1",
  kind,
  data,
  updatedAt: "2025-01-02T03:04:05.000Z",
});

describe("activity lines", () => {
  it.each([
    ["tool", item("tool", { tool: "bash", state: "pending", text: null }), undefined],
    ["tool", item("tool", { tool: "bash", state: "running", text: null }), "tool bash running"],
    ["tool", item("tool", { tool: "edit", state: { status: "completed", title: "src/slugify.js" } }), 'tool edit completed "src/slugify.js"'],
    ["tool", item("tool", { tool: "read", state: "error", title: "README.md" }), 'tool read error "README.md"'],
    ["text", item("text", { text: "" }), undefined],
    ["text", item("text", { text: `I will\n  add ${"x".repeat(200)}` }), `text "I will add ${"x".repeat(88)}…"`],
    ["reasoning", item("reasoning", { text: "think" }), 'thinking "think"'],
    ["message", item("message", { role: "assistant", completed: false }), undefined],
    ["message", item("message", { role: "assistant", completed: true, finish: "stop" }), "message assistant done (stop)"],
    ["message", item("message", { role: "assistant", completed: true, error: { name: "APIError", message: "overloaded" } }), "message assistant failed: overloaded"],
    ["permission", item("permission", { permission: "bash", patterns: ["rm -rf *"] }), "permission bash rm -rf *"],
    ["error", item("error", { name: "ProviderError", message: "503" }), "error ProviderError: 503"],
    ["patch", item("patch", {}), "patch"],
  ])("%s item → %s", (_kind, activity, expected) => {
    expect(summarizeActivity(activity)).toBe(expected);
  });

  it("prints an item updated in place only when its line changes", () => {
    const lines = new ActivityLines();
    expect(lines.line(item("tool", { tool: "bash", state: "pending" }))).toBeUndefined();
    expect(lines.line(item("tool", { tool: "bash", state: "running" }))).toBe("tool bash running");
    expect(lines.line(item("tool", { tool: "bash", state: "running" }))).toBeUndefined();
    expect(lines.line(item("tool", { tool: "bash", state: "completed" }))).toBe("tool bash completed");
    expect(lines.line(item("tool", { tool: "bash", state: "running" }, "prt_2"))).toBe("tool bash running");
  });
});

describe("task and run formatting", () => {
  it("truncates on one line", () => {
    expect(truncate("a\n b   c", 10)).toBe("a b c");
    expect(truncate("abcdefghijkl", 5)).toBe("abcd…");
  });

  it("lists tasks as aligned columns", () => {
    const rows = formatTaskTable([makeTask({ id: "tsk_aaaaaa", status: "PlanningReview" }), makeTask({ id: "tsk_bbbbbbbbbb", status: "Done" })]);
    expect(rows[0]?.indexOf("STATUS")).toBe(rows[1]?.indexOf("PlanningReview"));
    expect(rows[1]?.indexOf("PlanningReview")).toBe(rows[2]?.indexOf("Done"));
    expect(formatTaskTable([])).toEqual(["no tasks"]);
  });

  it("shows a finished run's changed files, error and usage", () => {
    const run = makeRun({
      status: "Failed",
      error: { code: "AGENT_STALLED", message: "no progress for 120 s" },
      review: {
        files: [
          { path: "src/slugify.js", status: "added", insertions: 13, deletions: 0 },
          { path: "README.md", status: "modified", insertions: 1, deletions: 2 },
        ],
        stat: { files: 2, insertions: 14, deletions: 2 },
        summary: "",
        commit: null,
      },
    });
    const text = formatRun(run).join("\n");
    expect(text).toContain("error          AGENT_STALLED: no progress for 120 s");
    expect(text).toContain("changed files (2, +14 −2):");
    expect(text).toMatch(/ {2}added {5}src\/slugify\.js {2}\+13 −0/);
    expect(text).toMatch(/ {2}modified {2}README\.md {7}\+1 −2/);
    expect(text).toContain("usage          0 model calls, 0 input + 0 output tokens, $0.0000");
  });
});

describe("formatAttempts", () => {
  it("shows each attempt's class, counts and failed tests", () => {
    const view = {
      class: "TEST_FAILURE" as const,
      reason: "1 failed",
      runner: "node",
      command: ["node", "--test"],
      counts: { passed: 2, failed: 1, errors: 0, skipped: 0, total: 3 },
      failed: [{ id: "test/a.test.js > adds", message: "expected 3\n got 4" }],
      durationMs: 1200,
      exitCode: 1,
      timedOut: false,
      sandboxed: true,
      notes: [],
      artifacts: [],
    };
    const run = makeRun({
      attempts: [
        { attempt: 1, summary: "s", retryContext: null, test: { ...view, attempt: 1 } },
        { attempt: 2, summary: "s", retryContext: null, test: { ...view, attempt: 2, class: "PASSED", failed: [], counts: { passed: 3, failed: 0, errors: 0, skipped: 0, total: 3 } } },
      ],
    });
    const lines = formatAttempts(run);
    expect(lines[0]).toContain("#1  TEST_FAILURE");
    expect(lines[0]).toContain("2 passed, 1 failed");
    expect(lines[1]).toContain("✗ test/a.test.js > adds: expected 3 got 4");
    expect(lines[2]).toContain("#2  PASSED");
    expect(formatRun(run).join("\n")).toContain("attempts:");
  });
});
