// runTests with real `go test -json` (Debian's golang-go; .ci/run installs it), in the real sandbox.
import { afterEach, describe, expect, it } from "vitest";
import { expectArtifactsIntact, run } from "./executor-helpers.js";
import { goRepo, removeFixtures } from "./fixture-repos.js";

afterEach(removeFixtures);

describe("runTests with go test", () => {
  it("PASSED, with `pkg/Test/sub` ids; stdout.log is the JSON report", async () => {
    const { result } = await run(goRepo("pass"));
    expect(result).toMatchObject({ class: "PASSED", runner: "go", exitCode: 0, sandboxed: true });
    expect(result.passedIds.sort()).toEqual(["example.com/sample/TestAdds", "example.com/sample/TestSub/a_b"]);
    expect(result.command).toEqual([expect.stringMatching(/\/go$/), "test", "-json", "-count=1", "./..."]);
    expectArtifactsIntact(result);
  });

  it("TEST_FAILURE: rerun alone with -run, fails again", async () => {
    const { result } = await run(goRepo("fail"));
    expect(result).toMatchObject({ class: "TEST_FAILURE", code: "TESTS_FAILED" });
    expect(result.failed).toEqual([{ id: "example.com/sample/TestBroken", message: "sample_test.go:8: one is not two" }]);
    expect(result.reruns[0]?.command).toEqual(expect.arrayContaining(["-run", "^(TestBroken)$", "example.com/sample"]));
    expect(result.reruns[0]?.stillFailing).toEqual(["example.com/sample/TestBroken"]);
  });

  it("TEST_FLAKE: fails first, passes on rerun", async () => {
    const { result } = await run(goRepo("flaky"));
    expect(result).toMatchObject({ class: "TEST_FLAKE", code: "FLAKY_ON_RERUN" });
  });

  it("TEST_COLLECTION_ERROR: a package that does not build", async () => {
    const { result } = await run(goRepo("syntax"));
    expect(result).toMatchObject({ class: "TEST_COLLECTION_ERROR", code: "COLLECTION_FAILED", reruns: [] });
    expect(result.collectionProblems[0]?.location).toBe("example.com/sample");
    expect(result.reason).toContain("sample_test.go:5");
  });
});
