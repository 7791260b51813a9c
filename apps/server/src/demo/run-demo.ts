import { mkdtemp, mkdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { z } from "zod";
import { ExecuteResponse, Run, Task, isTerminal, type TaskStatus } from "@kodo/contracts";
import { describeAgentSandbox } from "../agent/agent-sandbox.js";
import { homePaths, loadConfig, type KodoConfig } from "../config.js";
import { KodoError, describeError } from "../lib/errors.js";
import { loadScript } from "../model/scripted/script.js";
import { startScriptedModelServer, type ScriptedModelServer } from "../model/scripted/server.js";
import { startKodo, type Kodo } from "../kodo.js";
import { createSampleRepo } from "./sample-repo.js";

const execFileAsync = promisify(execFile);
/** the API token of the kodo the demo started (read from its home) */
let apiToken = "";

export const DEMO_SCRIPT = fileURLToPath(new URL("../../assets/model-scripts/demo.json", import.meta.url));
export const DEMO_TASK = {
  title: "Add slugify",
  prompt:
    "Add a function slugify(text) in src/slugify.js that lowercases the text, trims it and joins the words with '-', and a test for it in test/slugify.test.js.",
};

export interface DemoOptions {
  json: boolean;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** the whole demo's deadline (default 5 minutes) */
  timeoutMs?: number;
}

export interface DemoResult {
  ok: boolean;
  home: string;
  taskId?: string;
  runId?: string;
  statuses: TaskStatus[];
  run?: Run;
  testsPassed?: boolean;
  error?: { code: string; message: string };
}

async function api<T>(base: string, method: string, route: string, parse: (value: unknown) => T, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${apiToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const payload: unknown = await response.json();
  if (!response.ok) throw new KodoError("INTERNAL", `${method} ${route} → ${response.status}: ${JSON.stringify(payload)}`);
  return parse(payload);
}

/**
 * The offline demo: embedded Postgres, the scripted model and a real OpenCode server; a sample
 * repository; one task driven through the public API from plan to Done. Everything it starts is
 * stopped when it returns, also on Ctrl-C.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const env = options.env ?? process.env;
  const base = loadConfig(env);
  const home = env["KODO_HOME"] !== undefined && env["KODO_HOME"] !== "" ? base.home.root : path.join(base.home.root, "demo");
  const say = (line: string): void => {
    if (!options.json) options.log(line);
  };
  const result: DemoResult = { ok: false, home, statuses: [] };
  let model: ScriptedModelServer | undefined;
  let kodo: Kodo | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    say("\ninterrupted: stopping everything kodo started …");
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const deadline = performance.now() + (options.timeoutMs ?? 300_000);
  const checkDeadline = (): void => {
    if (interrupted) throw new KodoError("INTERRUPTED", "interrupted");
    if (performance.now() > deadline) throw new KodoError("DEADLINE_EXCEEDED", "the demo did not finish in time");
  };

  try {
    say("kodo demo — a whole task, offline: embedded Postgres, a scripted model, a real OpenCode agent\n");
    model = await startScriptedModelServer({ script: loadScript(DEMO_SCRIPT) });
    say(`• scripted model      ${model.url}  (script: ${path.relative(process.cwd(), DEMO_SCRIPT)})`);
    const config: KodoConfig = {
      ...base,
      home: homePaths(home),
      // the demo must run where bubblewrap is missing: the agent sandbox when it works, unless the user chose
      agentSandbox: (env["KODO_AGENT_SANDBOX"] ?? "") === "" ? "auto" : base.agentSandbox,
      model: { baseUrl: model.url, apiKey: "offline", model: "scripted-1", cost: { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 } },
    };
    await mkdir(path.join(home, "samples"), { recursive: true });
    const repo = await createSampleRepo(await mkdtemp(path.join(home, "samples", "sample-")));
    say(`• sample repository   ${repo}`);
    // the sample checkout lives in the (masked) home: the sandboxed agent may read it, so OpenCode sees the worktree's repository
    kodo = await startKodo({ config, port: 0, agentReadOnly: [path.join(home, "samples")], log: (line) => say(`  ${line}`) });
    apiToken = (await readFile(config.home.tokenFile, "utf8")).trim();
    say(`• agent               ${describeAgentSandbox(kodo.opencode?.sandbox)}`);
    say(`• kodo API            ${kodo.url}  (OpenAPI: ${kodo.url}/api/openapi.json)\n`);

    // The demo's home is its own: a run left over from an interrupted demo is cancelled, not resumed.
    const previous = await api(kodo.url, "GET", "/api/tasks?limit=1000", (v) => z.object({ tasks: z.array(Task) }).parse(v));
    for (const leftover of previous.tasks) {
      if (leftover.currentRunId === null || isTerminal(leftover.status)) continue;
      await api(kodo.url, "POST", `/api/runs/${leftover.currentRunId}/cancel`, (v) => Run.parse(v));
      say(`  cancelled run ${leftover.currentRunId}, left over from an interrupted demo`);
    }

    const task = await api(kodo.url, "POST", "/api/tasks", (v) => Task.parse(v), { ...DEMO_TASK, repoPath: repo });
    result.taskId = task.id;
    say(`POST /api/tasks                      → task ${task.id} "${task.title}"`);
    const started = await api(kodo.url, "POST", `/api/tasks/${task.id}/execute`, (v) => ExecuteResponse.parse(v));
    result.runId = started.runId;
    say(`POST /api/tasks/${task.id}/execute → 202, run ${started.runId} started in the background\n`);

    const follow = async (until: (status: TaskStatus) => boolean): Promise<Run> => {
      for (;;) {
        checkDeadline();
        const run = await api(kodo!.url, "GET", `/api/runs/${started.runId}`, (v) => Run.parse(v));
        for (const change of run.history.slice(result.statuses.length)) {
          result.statuses.push(change.to);
          say(`  status  ${(change.from ?? "—").padEnd(14)} → ${change.to.padEnd(14)} ${change.reason ?? ""}`);
        }
        if (until(run.status)) return run;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };

    let run = await follow((status) => status === "PlanningReview" || isTerminal(status));
    if (run.status !== "PlanningReview" || run.plan === null) throw new KodoError("AGENT_FAILED", `the run ended ${run.status} before a plan: ${run.error?.message ?? ""}`);
    say("\nThe plan agent (read-only) proposed:");
    say(`  ${run.plan.summary}`);
    run.plan.steps.forEach((step, index) => say(`  ${index + 1}. ${step}`));
    say(`  files: ${run.plan.files.join(", ")}`);
    say(`\nNothing is written before approval. Approving the plan through the public API:`);
    say(`POST /api/runs/${run.id}/approve-plan\n`);
    await api(kodo.url, "POST", `/api/runs/${run.id}/approve-plan`, (v) => Run.parse(v), { comment: "approved by the demo" });

    run = await follow(isTerminal);
    result.run = run;
    if (run.status !== "Done") throw new KodoError("AGENT_FAILED", `the run ended ${run.status}: ${run.error?.code ?? ""} ${run.error?.message ?? ""}`);

    say("\nThe build agent changed, in the run's own worktree:");
    for (const file of run.review?.files ?? []) say(`  ${file.status.padEnd(9)} ${file.path} (+${file.insertions} −${file.deletions})`);
    if (run.worktreePath !== null) {
      try {
        await execFileAsync(process.execPath, ["--test"], { cwd: run.worktreePath, timeout: 60_000 });
        result.testsPassed = true;
        say("  node --test in the worktree: passed");
      } catch (error) {
        result.testsPassed = false;
        say(`  node --test in the worktree: FAILED (${describeError(error).split("\n")[0] ?? ""})`);
      }
    }
    say("\nModel calls (ledger, one row per op_key):");
    for (const call of run.modelCalls) {
      say(`  ${call.stepId.padEnd(12)} ${call.status.padEnd(9)} in ${String(call.tokensInput).padStart(6)}  out ${String(call.tokensOutput).padStart(5)}  $${call.costUsd.toFixed(6)}  ${call.opKey.slice(0, 16)}…`);
    }
    say(`  total: ${run.usage.tokensInput} input + ${run.usage.tokensOutput} output tokens, $${run.usage.costUsd.toFixed(6)} (demo prices)`);
    say("\nWhere everything is:");
    say(`  kodo home       ${home}`);
    say(`  worktree        ${run.worktreePath ?? "-"}  (branch ${run.branch ?? "-"}, commit ${run.headCommit?.slice(0, 12) ?? "-"})`);
    say(`  your checkout   ${repo}  (untouched)`);
    say(`  artifacts       ${path.join(home, "runs", run.id)}`);
    say(`  logs            ${path.join(home, "logs")}`);
    result.ok = result.testsPassed !== false;
    say(result.ok ? "\nDemo finished: Done." : "\nDemo finished with failures.");
    return result;
  } catch (error) {
    const kodoError = error instanceof KodoError ? error : new KodoError("INTERNAL", describeError(error));
    result.error = { code: kodoError.code, message: kodoError.message };
    say(`\ndemo failed: ${kodoError.code}: ${kodoError.message}`);
    return result;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await kodo?.stop();
    await model?.close();
    say("stopped: kodo, OpenCode, Postgres and the scripted model.");
  }
}
