/** The pure parts of `kodo ci run`: exit-code classification, the task file and the JUnit report. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { junitReport, xmlText } from "../../src/ci/junit.js";
import { CI_EXIT_CODES, classifyRun, classifySetupError } from "../../src/ci/outcome.js";
import { loadTaskFile } from "../../src/ci/task-file.js";
import { DEFAULT_HTTP_TIMEOUTS } from "../../src/agent/http.js";
import { loadConfig } from "../../src/config.js";

const ended = (status: "Done" | "Failed" | "Rejected" | "Cancelled", code?: string): Parameters<typeof classifyRun>[0] => ({
  status,
  error: code === undefined ? null : { code, message: `${code} happened` },
  history: [{ reason: status === "Rejected" ? "not like this" : null }],
});

describe("what a CI job makes of a run", () => {
  it("Done is 0; a failed task 1; a timeout 2; a policy denial 3; infrastructure 4", () => {
    expect(classifyRun(ended("Done"))).toMatchObject({ status: "success", exitCode: 0, code: null });
    for (const code of ["PLAN_INVALID", "AGENT_STALLED", "TEST_FAILURE", "PLAN_DECISION_TIMEOUT"]) expect(classifyRun(ended("Failed", code)).exitCode, code).toBe(1);
    expect(classifyRun(ended("Failed", "MISSION_TIMEOUT"))).toMatchObject({ status: "mission_timeout", exitCode: 2 });
    for (const code of ["GITCLEANFAIL", "DESTRUCTIVE_GIT", "MODIFICATIONFAIL", "DENIED_BY_RULE", "DENIED_BY_DEFAULT", "POLICY_INVALID", "WORKTREE_REQUIRED", "BUDGET_EXCEEDED", "TARGET_OUTSIDE_ROOTS", "NETWORK_DENIED"]) {
      expect(classifyRun(ended("Failed", code)), code).toMatchObject({ status: "denied", exitCode: 3, code });
    }
    for (const code of ["AGENT_UNAVAILABLE", "DB_UNAVAILABLE", "OPENCODE_START_FAILED", "CLIFAIL", "SANDBOX_UNAVAILABLE"]) {
      expect(classifyRun(ended("Failed", code)), code).toMatchObject({ status: "infrastructure_error", exitCode: 4 });
    }
  });

  it("a rejected or cancelled run failed the task", () => {
    expect(classifyRun(ended("Rejected"))).toMatchObject({ status: "failed", exitCode: 1, code: "PLAN_REJECTED", message: "the run ended Rejected: not like this" });
    expect(classifyRun(ended("Cancelled"))).toMatchObject({ status: "failed", exitCode: 1, code: "CANCELLED" });
  });

  it("a failure before the run: a bad task or repository is 4 (invalid_task), a policy refusal 3, a start failure 4 (CLIFAIL)", () => {
    expect(classifySetupError("TASK_FILE_INVALID", "x")).toMatchObject({ status: "invalid_task", exitCode: 4 });
    expect(classifySetupError("REPO_NOT_GIT", "x")).toMatchObject({ status: "invalid_task", exitCode: 4 });
    expect(classifySetupError("PLAN_QUORUM_REQUIRED", "x")).toMatchObject({ status: "denied", exitCode: 3 });
    expect(classifySetupError("CLIFAIL", "x")).toMatchObject({ status: "infrastructure_error", exitCode: 4 });
    expect(classifySetupError("MISSION_TIMEOUT", "x")).toMatchObject({ status: "mission_timeout", exitCode: 2 });
    expect(classifySetupError("INTERRUPTED", "x")).toMatchObject({ status: "interrupted", exitCode: 130 });
    expect(CI_EXIT_CODES).toEqual({ success: 0, failed: 1, mission_timeout: 2, denied: 3, invalid_task: 4, infrastructure_error: 4, interrupted: 130 });
  });
});

describe("the task file", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kodo-taskfile-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const file = async (name: string, text: string): Promise<string> => {
    const full = path.join(dir, name);
    await writeFile(full, text);
    return full;
  };

  it("reads YAML with CI defaults (plan approval auto, base HEAD) and resolves the repository against its directory", async () => {
    const loaded = await loadTaskFile(await file("ok.yaml", "repo: ../checkout\ntitle: Fix it\nprompt: |\n  Fix the bug.\nverify:\n  target: tests\n  testRoots: [tests]\n"));
    expect(loaded.repoPath).toBe(path.resolve(dir, "../checkout"));
    expect(loaded.task).toMatchObject({ version: 1, baseRef: "HEAD", planApproval: "auto", title: "Fix it", prompt: "Fix the bug.", verify: { target: "tests", testRoots: ["tests"], maxAttempts: 3 } });
  });

  it("names the file, line, column and field of a bad value, in JSON and YAML", async () => {
    const json = await file("bad.json", '{\n  "repo": ".",\n  "title": "t",\n  "prompt": "p",\n  "planApproval": "never"\n}\n');
    await expect(loadTaskFile(json)).rejects.toMatchObject({ code: "TASK_FILE_INVALID", message: expect.stringMatching(new RegExp(`^${json}:5:19: planApproval: `)) });
    const yaml = await file("bad.yaml", "repo: .\ntitle: t\nprompt: p\npolicy:\n  version: 1\n  rules:\n    - id: a\n      tool: bash\n      action: run\n      effect: perhaps\n");
    await expect(loadTaskFile(yaml)).rejects.toMatchObject({ message: expect.stringMatching(new RegExp(`^${yaml}:10:15: policy\\.rules\\[0\\]\\.effect: `)) });
  });

  it("names a missing field and a JSON syntax error", async () => {
    const missing = await file("missing.json", '{"repo": ".", "title": "t"}');
    await expect(loadTaskFile(missing)).rejects.toMatchObject({ message: expect.stringContaining(`${missing}:1:1: prompt: `) });
    const broken = await file("broken.json", '{"repo": ".",\n "title": }');
    await expect(loadTaskFile(broken)).rejects.toMatchObject({ message: expect.stringContaining(`${broken}:2:11: (syntax): not valid JSON`) });
    await expect(loadTaskFile(path.join(dir, "nope.yaml"))).rejects.toMatchObject({ code: "TASK_FILE_INVALID", message: expect.stringContaining("cannot read the task file (ENOENT)") });
  });
});

describe("the JUnit report", () => {
  const base = { title: 'Fix <the> "bug" & more', durationMs: 1234, timestamp: "2025-01-01T00:00:00.000Z", properties: { "kodo.runId": "run_abc123", "kodo.evidenceDir": null }, output: ["Todo -> Planning"] };

  it("is one passing test case for a task that succeeded", () => {
    const xml = junitReport({ ...base, status: "success", code: null, message: "ok" });
    expect(xml).toContain('<testsuites name="kodo ci" tests="1" failures="0" errors="0" time="1.234">');
    expect(xml).toContain('<testcase classname="kodo.ci" name="Fix &lt;the&gt; &quot;bug&quot; &amp; more" time="1.234">');
    expect(xml).toContain('<property name="kodo.runId" value="run_abc123"/>');
    expect(xml).not.toContain("kodo.evidenceDir");
    expect(xml).not.toMatch(/<failure|<error/);
  });

  it("is a failure with the code for a failed, denied or timed-out task, an error when kodo could not run it", () => {
    expect(junitReport({ ...base, status: "denied", code: "GITCLEANFAIL", message: "git clean" })).toContain('failures="1" errors="0"');
    expect(junitReport({ ...base, status: "denied", code: "GITCLEANFAIL", message: "git clean" })).toContain('<failure type="GITCLEANFAIL" message="git clean">');
    expect(junitReport({ ...base, status: "infrastructure_error", code: "CLIFAIL", message: "no db" })).toContain('<error type="CLIFAIL" message="no db">');
  });

  it("drops characters XML 1.0 cannot carry", () => {
    expect(xmlText("a\u0000b\u001bc\td")).toBe("abc\td");
  });
});

describe("the OpenCode client's HTTP timeouts", () => {
  it("default to the client's own and can be set from the environment", () => {
    // the defaults for setup calls: 5 s to connect, 30 s to read
    expect(loadConfig({ KODO_HOME: "/tmp/kodo-config-test" }).httpTimeouts).toEqual({ connectMs: 5000, requestMs: 30_000 });
    expect(DEFAULT_HTTP_TIMEOUTS).toEqual({ connectMs: 5000, requestMs: 30_000 });
    expect(loadConfig({ KODO_HOME: "/tmp/kodo-config-test", KODO_HTTP_CONNECT_TIMEOUT_MS: "2000", KODO_HTTP_READ_TIMEOUT_MS: "60000" }).httpTimeouts).toEqual({ connectMs: 2000, requestMs: 60_000 });
    expect(() => loadConfig({ KODO_HOME: "/tmp/kodo-config-test", KODO_HTTP_READ_TIMEOUT_MS: "soon" })).toThrow(/KODO_HTTP_READ_TIMEOUT_MS must be a positive number/);
  });
});
