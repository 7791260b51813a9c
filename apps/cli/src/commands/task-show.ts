import { ExitCode } from "../errors.js";
import { formatRun, formatTask, nextStep } from "../format.js";
import type { Command } from "./command.js";

export const taskShow: Command = {
  spec: {
    name: "task show",
    group: "tasks",
    summary: "Show a task and its current run: status, plan, history, changed files, tokens and cost.",
    synopsis: "TASK_ID",
    positionals: ["TASK_ID"],
    options: {},
    client: true,
    examples: ["kodo task show tsk_01hzyx7k2m", "kodo task show tsk_01hzyx7k2m --json"],
  },
  async run(context) {
    const client = await context.client();
    const task = await client.getTask(context.args.positional("TASK_ID"));
    const run = task.currentRunId === null ? null : await client.getRun(task.currentRunId);
    if (context.json) {
      context.printJson({ task, run });
      return ExitCode.ok;
    }
    const { io } = context;
    for (const line of formatTask(task)) io.stdout(line);
    if (run === null) {
      io.stdout(`no run yet: kodo task run ${task.id} --wait`);
    } else {
      io.stdout("");
      for (const line of formatRun(run)) io.stdout(line);
      const next = nextStep(run);
      if (next !== undefined) io.stdout(`\n${next}`);
    }
    return ExitCode.ok;
  },
};
