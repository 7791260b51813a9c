/** Shared pieces of the suite tests: a kodo home, a repository under test, and what "untouched" means. */
import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type KodoConfig } from "../../src/config.js";
import { createSampleRepo } from "../../src/demo/sample-repo.js";
import { sidecarLine } from "../../src/evidence/sidecar.js";
import { SUITE_FIXTURES } from "../../src/suite/policy.js";
import type { CaseResult, RunSummary } from "../../src/suite/schemas.js";
import { runGit } from "../../src/workspace/git.js";
import { markedProcesses } from "../agent/helpers.js";

export interface SuiteHome {
  /** a temporary directory holding the home and the repositories under test */
  base: string;
  home: string;
  config: KodoConfig;
  /** the suite's own OpenCode state dir (its processes carry this marker) */
  stateDir: string;
  cleanup(): Promise<void>;
}

/** A fresh kodo home; no endpoint configured, so the suite uses the shipped scripted model. */
export async function suiteHome(prefix: string): Promise<SuiteHome> {
  const base = await mkdtemp(path.join(os.tmpdir(), `kodo-suite-${prefix}-`));
  const home = path.join(base, "home");
  return {
    base,
    home,
    config: loadConfig({ KODO_HOME: home }),
    stateDir: path.join(home, "opencode-suite"),
    cleanup: async () => {
      if (process.env["KODO_KEEP_TEST_DIRS"] !== "1") await rm(base, { recursive: true, force: true, maxRetries: 2 });
    },
  };
}

/** The demo's sample repository, next to the home; with `fixtures`, the suite's fixtures committed in it too (the seed's layout). */
export async function repositoryUnderTest(base: string, o: { fixtures?: boolean } = {}): Promise<string> {
  const repo = await createSampleRepo(await mkdtemp(path.join(base, "repo-")));
  if (o.fixtures === true) {
    await cp(SUITE_FIXTURES, repo, { recursive: true });
    await runGit(["add", "-A"], { cwd: repo });
    await runGit(["commit", "-q", "-m", "the dogfood suite's fixtures"], { cwd: repo });
  }
  return repo;
}


export { digestCheckout } from "../support/checkout.js";

export async function readResult(runDir: string, id: string): Promise<CaseResult> {
  return JSON.parse(await readFile(path.join(runDir, "cases", `${id}.result.json`), "utf8")) as CaseResult;
}

export async function readSummary(runDir: string): Promise<RunSummary> {
  return JSON.parse(await readFile(path.join(runDir, "run_summary.json"), "utf8")) as RunSummary;
}

export async function evidenceText(runDir: string, id: string, name: string): Promise<string> {
  return await readFile(path.join(runDir, "evidence", id, name), "utf8");
}

/** Every file of the run directory (not the sidecars) has a sidecar that `sha256sum -c` would accept. */
export async function sidecarProblems(runDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const entry of await readdir(runDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith(".sha256")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const content = await readFile(file);
    const expected = sidecarLine(createHash("sha256").update(content).digest("hex"), entry.name);
    const sidecar = await readFile(`${file}.sha256`, "utf8").catch(() => "(missing)");
    if (sidecar !== expected) problems.push(`${path.relative(runDir, file)}: sidecar ${JSON.stringify(sidecar)}`);
  }
  return problems;
}

/** Processes of the suite's OpenCode still alive (expected: none once runSuite returned). */
export function leftovers(stateDir: string): string[] {
  return markedProcesses(stateDir).map((entry) => `${entry.pid} ${entry.cmdline}`);
}
