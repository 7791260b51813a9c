import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitEnvironment, runGit } from "../../src/workspace/git.js";
import { git, kodoErrorOf, makeRepo, tempDir } from "./fixtures.js";

describe("runGit", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  });

  it("returns stdout, stderr and the exit code", async () => {
    const repo = makeRepo();
    const result = await runGit(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo });
    expect(result).toEqual({ stdout: "main\n", stderr: "", code: 0 });
  });

  it("throws GIT_FAILED with the command and stderr, or returns the failure with allowFail", async () => {
    const repo = makeRepo();
    const error = await kodoErrorOf(runGit(["rev-parse", "--verify", "no-such-ref"], { cwd: repo }));
    expect(error.code).toBe("GIT_FAILED");
    expect(error.details).toMatchObject({ command: ["git", "rev-parse", "--verify", "no-such-ref"], reason: "exit", exitCode: 128 });
    expect(String(error.details?.["stderr"])).toContain("Needed a single revision");

    const allowed = await runGit(["rev-parse", "--verify", "no-such-ref"], { cwd: repo, allowFail: true });
    expect(allowed.code).toBe(128);
  });

  it("passes input on stdin", async () => {
    const repo = makeRepo();
    const result = await runGit(["hash-object", "--stdin"], { cwd: repo, input: "hello\n" });
    expect(result.stdout.trim()).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });

  it("kills git (and what it started) at the deadline", async () => {
    const repo = makeRepo();
    const marker = path.join(tempDir(), "survived");
    const started = Date.now();
    const error = await kodoErrorOf(
      runGit(["-c", `alias.slow=!sleep 2; touch '${marker}'`, "slow"], { cwd: repo, timeoutMs: 300 }),
    );
    expect(error.code).toBe("GIT_FAILED");
    expect(error.retryable).toBe(true);
    expect(error.details?.["reason"]).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(2_000); // killed before its 2 s sleep ended
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(existsSync(marker)).toBe(false);
  });

  it("bounds the output", async () => {
    const repo = makeRepo();
    const error = await kodoErrorOf(runGit(["log"], { cwd: repo, maxOutputBytes: 10 }));
    expect(error.details?.["reason"]).toBe("output_limit");
  });

  it("never runs the repository's hooks or fsmonitor command", async () => {
    const repo = makeRepo();
    const marker = path.join(tempDir(), "ran");
    const script = path.join(repo, ".git", "hooks", "pre-commit");
    mkdirSync(path.dirname(script), { recursive: true });
    writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
    chmodSync(script, 0o755);
    const monitor = path.join(repo, ".git", "monitor.sh");
    writeFileSync(monitor, `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(monitor, 0o755);
    git(repo, ["config", "core.fsmonitor", monitor]);

    await runGit(["status", "--porcelain"], { cwd: repo });
    writeFileSync(path.join(repo, "new.txt"), "x\n");
    await runGit(["add", "new.txt"], { cwd: repo });
    await runGit(["commit", "-q", "-m", "no hook"], { cwd: repo });
    expect(existsSync(marker)).toBe(false);
  });

  it("ignores inherited GIT_* variables that would redirect it to another repository", async () => {
    const repo = makeRepo();
    const other = makeRepo({ "other.txt": "x\n" });
    process.env["GIT_DIR"] = path.join(other, ".git");
    process.env["GIT_INDEX_FILE"] = path.join(other, ".git", "index");
    process.env["GIT_CONFIG_GLOBAL"] = "/dev/null";
    const env = gitEnvironment();
    expect(env["GIT_DIR"]).toBeUndefined();
    expect(env["GIT_INDEX_FILE"]).toBeUndefined();
    expect(env["GIT_CONFIG_GLOBAL"]).toBe("/dev/null");
    expect(env).toMatchObject({ GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", GIT_OPTIONAL_LOCKS: "0" });
    const top = await runGit(["rev-parse", "--show-toplevel"], { cwd: repo });
    expect(top.stdout.trim()).toBe(repo);
  });
});
