import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CreateTaskRequest } from "@kodo/contracts";
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
    synopsis: "--repo PATH --title T (--prompt P | --prompt-file F) [--base REF] [--auto-approve]",
    positionals: [],
    options: {
      repo: { type: "string", value: "PATH", description: "the git repository to work on (resolved against the current directory)" },
      title: { type: "string", value: "T", description: "a short title" },
      prompt: { type: "string", value: "P", description: "what to do" },
      "prompt-file": { type: "string", value: "F", description: "read what to do from this file" },
      base: { type: "string", value: "REF", description: "the commit, branch or tag to start from (default HEAD)" },
      "auto-approve": { type: "boolean", description: "approve the plan without asking (default: a person approves it)" },
    },
    client: true,
    examples: [
      'kodo task create --repo . --title "Add slugify" --prompt "Add slugify(text) in src/slugify.js with a test"',
      "kodo task create --repo ~/src/app --title Refactor --prompt-file task.md --base main --auto-approve --json",
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
    const request: CreateTaskRequest = {
      title,
      prompt,
      repoPath,
      planApproval: args.flag("auto-approve") ? "auto" : "manual",
      ...(base === undefined ? {} : { baseRef: base }),
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
