import { describe, expect, it } from "vitest";
import { checkTransition } from "../../src/domain/status-machine.js";
import { buildPrompt, planPrompt } from "../../src/domain/prompts.js";
import { fixedClock, newId, seededRandom } from "../../src/lib/ports.js";
import { isWithin } from "../../src/lib/paths.js";

describe("status machine", () => {
  it("follows the happy path and refuses to leave a terminal status", () => {
    const path = ["Todo", "Planning", "PlanningReview", "InProgress", "AiReview", "Done"] as const;
    for (let i = 1; i < path.length; i += 1) expect(checkTransition(path[i - 1]!, path[i]!)).toEqual({ kind: "ok" });
    expect(checkTransition("PlanningReview", "Rejected")).toEqual({ kind: "ok" });
    expect(checkTransition("Planning", "Rejected").kind).toBe("refused");
    expect(checkTransition("Done", "Failed").kind).toBe("refused");
    expect(checkTransition("Cancelled", "InProgress").kind).toBe("refused");
    expect(checkTransition("InProgress", "InProgress")).toEqual({ kind: "same" });
  });
});

describe("determinism ports", () => {
  it("gives the same sequence for the same seed", () => {
    const a = seededRandom("seed-1");
    const b = seededRandom("seed-1");
    const c = seededRandom("seed-2");
    const seqA = [a.token(12), a.next(), a.next()];
    expect([b.token(12), b.next(), b.next()]).toEqual(seqA);
    expect(c.token(12)).not.toBe(seqA[0]);
    for (let i = 0; i < 1000; i += 1) {
      const value = a.next();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  it("makes time-ordered ids from the ports", () => {
    const clock = fixedClock(new Date("2026-01-01T00:00:00Z"), 1);
    const random = seededRandom("ids");
    const first = newId("tsk", clock, random);
    const second = newId("tsk", clock, random);
    expect(first).toMatch(/^tsk_[a-z0-9]+$/);
    expect(second > first).toBe(true);
  });
});

describe("prompts", () => {
  it("are pure: the same state gives byte-identical prompts (so the same op_key)", () => {
    const task = { title: "T", prompt: "P" };
    const plan = { summary: "S", steps: ["a"], files: ["f"], risks: [], tests: ["t"] };
    expect(planPrompt(task)).toBe(planPrompt(task));
    expect(buildPrompt(task, plan)).toBe(buildPrompt(task, plan));
    expect(planPrompt(task)).toContain("KODO-PHASE: plan");
    expect(buildPrompt(task, plan)).toContain("KODO-PHASE: build");
    expect(planPrompt(task, { attempt: 2, problem: "x" })).not.toBe(planPrompt(task));
  });
});

describe("isWithin", () => {
  it("decides on path components, not string prefixes", () => {
    expect(isWithin("/a/tests", "/a/tests/x.py")).toBe(true);
    expect(isWithin("/a/tests", "/a/tests")).toBe(true);
    expect(isWithin("/a/tests", "/a/tests2/x.py")).toBe(false);
    expect(isWithin("/a/tests", "/a/tests/../secrets")).toBe(false);
    expect(isWithin("/a/tests", "/a/tests/..foo")).toBe(true);
  });
});
