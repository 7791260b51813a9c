import { TaskStatus } from "@kodo/contracts";
import { ExitCode } from "../errors.js";
import { formatTaskTable } from "../format.js";
import type { Command } from "./command.js";

export const taskList: Command = {
  spec: {
    name: "task list",
    group: "tasks",
    summary: "List tasks, newest first.",
    synopsis: "[--status S] [--limit N]",
    positionals: [],
    options: {
      status: { type: "string", value: "S", description: `only tasks in this status (${TaskStatus.options.join(", ")})` },
      limit: { type: "string", value: "N", description: "at most N tasks (1-1000)" },
    },
    client: true,
    examples: ["kodo task list", "kodo task list --status PlanningReview --json"],
  },
  async run(context) {
    const { args } = context;
    const status = args.oneOf("status", TaskStatus.options);
    const limit = args.integer("limit", { min: 1, max: 1000 });
    const client = await context.client();
    const tasks = await client.listTasks({ ...(status === undefined ? {} : { status }), ...(limit === undefined ? {} : { limit }) });
    if (context.json) context.printJson({ tasks });
    else for (const line of formatTaskTable(tasks)) context.io.stdout(line);
    return ExitCode.ok;
  },
};
