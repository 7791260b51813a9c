// runTests with the repository's own vitest (a fixture's node_modules/vitest → kodo's copy), in the real sandbox.
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expectArtifactsIntact, run } from "./executor-helpers.js";
import { removeFixtures, vitestRepo } from "./fixture-repos.js";

afterEach(removeFixtures);

describe("runTests with vitest", () => {
  it("PASSED, with `file > suite > test` ids and the JUnit report kept", async () => {
    const worktree = vitestRepo("pass");
    const { result } = await run(worktree);
    expect(result).toMatchObject({ class: "PASSED", runner: "vitest", exitCode: 0, sandboxed: true });
    expect(result.passedIds).toEqual(["test/sample.test.ts > adds", "test/sample.test.ts > strings > upper"]);
    expect(result.artifacts.map((artifact) => artifact.name)).toContain("report.xml");
    expectArtifactsIntact(result);
    // --cache=false: no results cache written into the worktree's node_modules
    expect(existsSync(path.join(worktree, "node_modules", ".vite", "vitest"))).toBe(false);
  });

  it("TEST_FAILURE: rerun alone with -t on the full name, fails again", async () => {
    const { result } = await run(vitestRepo("fail"));
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED" });
    expect(result.failed).toEqual([{ id: "test/sample.test.ts > math > broken", message: "expected 1 to be 2 // Object.is equality" }]);
    expect(result.reruns[0]?.command).toEqual(expect.arrayContaining(["-t", "^(?:math broken)$", "test/sample.test.ts"]));
    expect(result.reruns[0]?.stillFailing).toEqual(["test/sample.test.ts > math > broken"]);
  });

  it("TEST_FLAKE: fails first, passes on rerun", async () => {
    const { result } = await run(vitestRepo("flaky"));
    expect(result).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_ON_RERUN" });
  });

  it("TEST_COLLECTION_ERROR: a file that does not parse", async () => {
    const { result } = await run(vitestRepo("syntax"));
    expect(result).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "COLLECTION_FAILED", reruns: [] });
    expect(result.reason).toContain("PARSE_ERROR");
  });
});
