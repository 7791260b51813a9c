import { CliError, ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const taskCancel: Command = {
  spec: {
    name: "task cancel",
    group: "tasks",
    summary: "Cancel the task's current run (the agent is stopped; the worktree is kept).",
    synopsis: "TASK_ID",
    positionals: ["TASK_ID"],
    options: {},
    client: true,
    examples: ["kodo task cancel tsk_01hzyx7k2m"],
  },
  async run(context) {
    const client = await context.client();
    const task = await client.getTask(context.args.positional("TASK_ID"));
    if (task.currentRunId === null) {
      throw new CliError("NO_RUN", `task ${task.id} has no run to cancel (status ${task.status})`, ExitCode.conflict);
    }
    const run = await client.cancelRun(task.currentRunId);
    if (context.json) context.printJson(run);
    else context.io.stdout(`run ${run.id} of task ${task.id}: ${run.status}`);
    return ExitCode.ok;
  },
};
