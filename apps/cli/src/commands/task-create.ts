import { readFile } from "node:fs/promises";
import path from "node:path";
import { TestRunner, type CreateTaskRequest } from "@kodo/contracts";
import { UsageError } from "../args.js";
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

export const taskCreate: Command = {
  spec: {
    name: "task create",
    group: "tasks",
    summary: "Create a task: what an agent should do in which repository. It starts when you `kodo task run` it.",
    synopsis: "--repo PATH --title T (--prompt P | --prompt-file F) [--base REF] [--auto-approve] [--test-target T [--test-runner R] [--max-attempts N]]",
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
    },
    client: true,
    examples: [
      'kodo task create --repo . --title "Add slugify" --prompt "Add slugify(text) in src/slugify.js with a test"',
      "kodo task create --repo ~/src/app --title Refactor --prompt-file task.md --base main --auto-approve --json",
      'kodo task create --repo . --title "Fix parser" --prompt "…" --test-target tests/test_parser.py --max-attempts 3',
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
