import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildInvocation, selectable } from "../../src/verify/runner-commands.js";
import { baseCommand, detectRunner } from "../../src/verify/runners.js";
import { runnerTarget } from "../../src/verify/target.js";
import { removeFixtures, tempDir } from "./fixture-repos.js";

afterEach(removeFixtures);

function repo(files: Record<string, string>): string {
  const root = tempDir("kodo-detect-");
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

describe("detectRunner", () => {
  it.each([
    [{ "package.json": JSON.stringify({ devDependencies: { vitest: "^4" } }), "a.test.js": "" }, "vitest"],
    [{ "package.json": JSON.stringify({ scripts: { test: "node --test test/" } }) }, "node"],
    [{ "package.json": JSON.stringify({ scripts: { test: "NODE_ENV=x node --experimental-foo --test" } }) }, "node"],
    [{ "package.json": "{}", "src/deep/x.test.mjs": "" }, "node"],
    [{ "pytest.ini": "[pytest]\n" }, "pytest"],
    [{ "pyproject.toml": "[tool.pytest.ini_options]\n" }, "pytest"],
    [{ "setup.cfg": "[tool:pytest]\n" }, "pytest"],
    [{ "tests/conftest.py": "", "tests/test_a.py": "" }, "pytest"],
    [{ "pkg/thing_test.py": "" }, "pytest"],
    [{ "go.mod": "module x\n" }, "go"],
  ] as const)("%j → %s", async (files, runner) => {
    expect((await detectRunner(repo(files), ".")).runner).toBe(runner);
  });

  it("lets the target decide first", async () => {
    const root = repo({ "package.json": JSON.stringify({ devDependencies: { vitest: "1" } }) });
    expect((await detectRunner(root, "tests/test_a.py::test_x")).runner).toBe("pytest");
    expect((await detectRunner(root, "./pkg/...")).runner).toBe("go");
  });

  it("ignores node_modules and says what it found", async () => {
    const root = repo({ "node_modules/dep/x.test.js": "", "go.mod": "module x\n" });
    expect(await detectRunner(root, ".")).toEqual({ runner: "go", evidence: "go.mod exists" });
  });

  it("fails with TEST_RUNNER_UNKNOWN when nothing fits", async () => {
    await expect(detectRunner(repo({ "README.md": "" }), ".")).rejects.toMatchObject({ code: "TEST_RUNNER_UNKNOWN" });
  });
});

describe("baseCommand", () => {
  it("resolves python to the real interpreter (not the pyenv shim), node to kodo's node", async () => {
    const root = repo({});
    const [python, ...rest] = await baseCommand("pytest", root);
    expect(rest).toEqual(["-m", "pytest"]);
    expect(path.isAbsolute(python ?? "")).toBe(true);
    expect(python).not.toContain("/shims/");
    expect(await baseCommand("node", root)).toEqual([process.execPath]);
  });

  it("uses the repository's own vitest, found from the worktree up, and refuses when there is none", async () => {
    const root = repo({});
    await expect(baseCommand("vitest", root)).rejects.toMatchObject({ code: "TEST_RUNNER_UNAVAILABLE" });
    mkdirSync(path.join(root, "node_modules"));
    symlinkSync(path.resolve("node_modules/vitest"), path.join(root, "node_modules", "vitest"));
    const nested = path.join(root, "packages", "a");
    mkdirSync(nested, { recursive: true });
    const command = await baseCommand("vitest", nested);
    expect(command[0]).toBe(process.execPath);
    expect(command[1]?.endsWith("/vitest/vitest.mjs")).toBe(true);
  });
});

describe("buildInvocation", () => {
  const common = { worktree: "/w", target: "tests", scratch: "/s", label: "main" };

  it("pytest: junit xunit1, no cache, rootdir; a rerun passes node ids", () => {
    const first = buildInvocation({ ...common, runner: "pytest", base: ["py", "-m", "pytest"] });
    expect(first).toEqual({
      command: ["py", "-m", "pytest", "-p", "no:cacheprovider", "-o", "junit_family=xunit1", "--junitxml=/s/main-report.xml", "--rootdir=/w", "tests"],
      reportFormat: "junit", reportPath: "/s/main-report.xml",
    });
    const rerun = buildInvocation({ ...common, label: "rerun-1", runner: "pytest", base: ["py"], select: [{ file: "tests/a.py", path: ["TestK", "test_x[1]"] }] });
    expect(rerun.command.at(-1)).toBe("tests/a.py::TestK::test_x[1]");
    expect(rerun.command).not.toContain("tests");
  });

  it("node: kodo's reporter to a file, spec to stdout; a rerun names the tests and their parents, anchored and escaped", () => {
    const first = buildInvocation({ ...common, target: ".", runner: "node", base: ["node"] });
    expect(first.command).toEqual(["node", "--test", "--test-reporter=/s/kodo-node-reporter.mjs", "--test-reporter-destination=/s/main-report.jsonl", "--test-reporter=spec", "--test-reporter-destination=stdout"]);
    const rerun = buildInvocation({ ...common, runner: "node", base: ["node"], select: [{ file: "test/a.test.js", path: ["suite", "adds (1+1)"] }] });
    expect(rerun.command.slice(-3)).toEqual(["--test-name-pattern=^suite$", "--test-name-pattern=^adds \\(1\\+1\\)$", "test/a.test.js"]);
  });

  it("vitest: junit to a file and the default reporter; a rerun uses -t on the full name", () => {
    const rerun = buildInvocation({ ...common, runner: "vitest", base: ["node", "vitest.mjs"], select: [{ file: "test/a.test.ts", path: ["outer", "x.y"] }, { file: "test/b.test.ts", path: ["z"] }] });
    expect(rerun.command).toEqual([
      "node", "vitest.mjs", "run", "--reporter=default", "--reporter=junit", "--outputFile.junit=/s/main-report.xml", "--no-color", "--cache=false",
      "-t", "^(?:outer x\\.y|z)$", "test/a.test.ts", "test/b.test.ts",
    ]);
  });

  it("go: -json -count=1 on stdout; '.' means every package; a rerun selects top-level tests with -run", () => {
    expect(buildInvocation({ ...common, target: ".", runner: "go", base: ["go"] })).toEqual({ command: ["go", "test", "-json", "-count=1", "./..."], reportFormat: "go-json", reportPath: undefined });
    const rerun = buildInvocation({ ...common, runner: "go", base: ["go"], select: [{ file: "example.com/m", path: ["TestA", "sub"] }, { file: "example.com/m/p", path: ["TestB"] }] });
    expect(rerun.command).toEqual(["go", "test", "-json", "-count=1", "-run", "^(TestA|TestB)$", "example.com/m", "example.com/m/p"]);
  });

  it("a whole crashed file or package cannot be selected alone", () => {
    expect(selectable("node", { file: "a.test.js", path: [] })).toBe(false);
    expect(selectable("go", { file: "example.com/m", path: ["TestA"] })).toBe(true);
  });
});

describe("runnerTarget", () => {
  it("makes targets relative, keeps pytest node ids and go patterns", async () => {
    const root = repo({ "tests/test_a.py": "", "pkg/x_test.go": "" });
    expect(await runnerTarget(root, "pytest", "tests/test_a.py::test_x")).toBe("tests/test_a.py::test_x");
    expect(await runnerTarget(root, "pytest", path.join(root, "tests"))).toBe("tests");
    expect(await runnerTarget(root, "pytest", ".")).toBe(".");
    expect(await runnerTarget(root, "go", "pkg")).toBe("./pkg");
    expect(await runnerTarget(root, "go", "./pkg/...")).toBe("./pkg/...");
    expect(await runnerTarget(root, "go", "...")).toBe("./...");
    expect(await runnerTarget(root, "go", "example.com/m/pkg")).toBe("example.com/m/pkg");
  });

  it.each([
    ["", "empty"],
    ["--collect-only", "'-'"],
    ["-p evil", "'-'"],
    ["../outside", "outside the worktree"],
    ["/etc", "outside the worktree"],
    ["tests/nope.py", "does not exist"],
    ["tests\u0000x", "control characters"],
  ])("refuses %j", async (target, message) => {
    const root = repo({ "tests/test_a.py": "" });
    await expect(runnerTarget(root, "pytest", target)).rejects.toMatchObject({ code: "TEST_TARGET_INVALID" });
    await expect(runnerTarget(root, "pytest", target)).rejects.toThrow(message);
  });

  it("refuses a symlink that leads out of the worktree", async () => {
    const root = repo({ "tests/test_a.py": "" });
    symlinkSync("/etc", path.join(root, "tests", "escape"));
    await expect(runnerTarget(root, "pytest", "tests/escape")).rejects.toThrow("resolves outside the worktree");
  });
});
