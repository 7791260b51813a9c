import { readFile } from "node:fs/promises";
import path from "node:path";
import { TestRunner, type Budget, type CreateTaskRequest } from "@kodo/contracts";
import { UsageError, type Args } from "../args.js";
import { CliError, ExitCode } from "../errors.js";
import { formatTask } from "../format.js";
import type { Command } from "./command.js";

async function readPrompt(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new CliError("PROMPT_FILE_UNREADABLE", `cannot read --prompt-file ${file}: ${(error as Error).message}`, ExitCode.usage, { cause: error });
  }
}

/** The policy file, checked here (line:column errors) before it travels to the server, which checks it again. */
async function readTaskPolicy(file: string): Promise<Record<string, unknown>> {
  const { loadPolicy } = await import("@kodo/server/policy");
  try {
    return (await loadPolicy(file)) as unknown as Record<string, unknown>;
  } catch (error) {
    const details = (error as { details?: Record<string, unknown> }).details;
    throw new CliError("POLICY_INVALID", (error as Error).message, ExitCode.usage, { cause: error, ...(details === undefined ? {} : { details }) });
  }
}

function budgetOptions(args: Args): Budget | undefined {
  const tokens = args.integer("budget-tokens", { min: 1, max: 1_000_000_000_000 });
  const seconds = args.integer("budget-seconds", { min: 1, max: 30 * 24 * 3600 });
  const builds = args.integer("budget-builds", { min: 1, max: 50 });
  const rawCost = args.string("budget-cost");
  const cost = rawCost === undefined ? undefined : Number(rawCost);
  if (cost !== undefined && (!/^\d+(\.\d+)?$/.test(rawCost ?? "") || !(cost > 0))) {
    throw new UsageError(`--budget-cost must be a positive amount in USD, got ${JSON.stringify(rawCost)}`, args.spec);
  }
  const budget: Budget = {
    ...(tokens === undefined ? {} : { maxTokens: tokens }),
    ...(cost === undefined ? {} : { maxCostUsd: cost }),
    ...(seconds === undefined ? {} : { maxWallSeconds: seconds }),
    ...(builds === undefined ? {} : { maxBuildAttempts: builds }),
  };
  return Object.keys(budget).length === 0 ? undefined : budget;
}

export const taskCreate: Command = {
  spec: {
    name: "task create",
    group: "tasks",
    summary: "Create a task: what an agent should do in which repository. It starts when you `kodo task run` it.",
    synopsis:
      "--repo PATH --title T (--prompt P | --prompt-file F) [--base REF] [--auto-approve] [--test-target T [--test-runner R] [--max-attempts N]] [--policy FILE] [--budget-tokens N] [--budget-cost USD] [--budget-seconds S] [--budget-builds N]",
    positionals: [],
    options: {
      repo: { type: "string", value: "PATH", description: "the git repository to work on (resolved against the current directory)" },
      title: { type: "string", value: "T", description: "a short title" },
      prompt: { type: "string", value: "P", description: "what to do" },
      "prompt-file": { type: "string", value: "F", description: "read what to do from this file" },
      base: { type: "string", value: "REF", description: "the commit, branch or tag to start from (default HEAD)" },
      "auto-approve": { type: "boolean", description: "approve the plan without asking (default: a person approves it)" },
      "test-target": { type: "string", value: "T", description: "verify the build with these tests (inside the repo's test roots, see `kodo repo settings`)" },
      "test-runner": { type: "string", value: "R", description: "pytest | node | vitest | go (default: detected)" },
      "max-attempts": { type: "string", value: "N", description: "build attempts in the build → test → fix loop (default 3)" },
      policy: { type: "string", value: "FILE", description: "the task's own policy layer (JSON or YAML, see docs/policy.md); under governance it may only narrow" },
      "budget-tokens": { type: "string", value: "N", description: "stop the task (BUDGET_EXCEEDED) past N model tokens, over all its runs" },
      "budget-cost": { type: "string", value: "USD", description: "… past this cost in USD (as KODO_MODEL_COST prices calls)" },
      "budget-seconds": { type: "string", value: "S", description: "… past S seconds of a run's working time (waiting for plan approval excluded)" },
      "budget-builds": { type: "string", value: "N", description: "… past N build attempts of a run" },
    },
    client: true,
    examples: [
      'kodo task create --repo . --title "Add slugify" --prompt "Add slugify(text) in src/slugify.js with a test"',
      "kodo task create --repo ~/src/app --title Refactor --prompt-file task.md --base main --auto-approve --json",
      'kodo task create --repo . --title "Fix parser" --prompt "…" --test-target tests/test_parser.py --max-attempts 3',
      'kodo task create --repo . --title "Tidy" --prompt "…" --policy narrow.yaml --budget-tokens 200000 --budget-cost 2.50',
    ],
  },
  async run(context) {
    const { args, io } = context;
    const repoPath = path.resolve(io.cwd, args.requireString("repo"));
    const title = args.requireString("title");
    const inline = args.string("prompt");
    const file = args.string("prompt-file");
    if (inline !== undefined && file !== undefined) throw new UsageError("give --prompt or --prompt-file, not both", args.spec);
    if (inline === undefined && file === undefined) throw new UsageError("--prompt or --prompt-file is required", args.spec);
    const prompt = inline ?? (await readPrompt(path.resolve(io.cwd, file ?? "")));
    const base = args.string("base");
    const target = args.string("test-target");
    const runner = args.oneOf("test-runner", TestRunner.options);
    const maxAttempts = args.integer("max-attempts", { min: 1, max: 10 });
    if (target === undefined && (runner !== undefined || maxAttempts !== undefined)) throw new UsageError("--test-runner and --max-attempts need --test-target", args.spec);
    const policyFile = args.string("policy");
    const policy = policyFile === undefined ? undefined : await readTaskPolicy(path.resolve(io.cwd, policyFile));
    const budget = budgetOptions(args);
    const request: CreateTaskRequest = {
      title,
      prompt,
      repoPath,
      planApproval: args.flag("auto-approve") ? "auto" : "manual",
      ...(base === undefined ? {} : { baseRef: base }),
      ...(target === undefined
        ? {}
        : {
            verify: {
              target,
              ...(runner === undefined ? {} : { runner }),
              ...(maxAttempts === undefined ? {} : { maxAttempts }),
            },
          }),
      ...(policy === undefined ? {} : { policy }),
      ...(budget === undefined ? {} : { budget }),
    };
    const client = await context.client();
    const task = await client.createTask(request);
    if (context.json) {
      context.printJson(task);
    } else {
      for (const line of formatTask(task)) io.stdout(line);
      io.stdout(`next: kodo task run ${task.id} --wait`);
    }
    return ExitCode.ok;
  },
};
