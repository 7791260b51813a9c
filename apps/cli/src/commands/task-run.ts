import { isTerminal, type Run, type TaskStatus } from "@kodo/contracts";
import { CliError, ExitCode } from "../errors.js";
import { formatRun, nextStep } from "../format.js";
import { ActivityLines, formatEvent } from "../format-events.js";
import { followRun } from "../follow-run.js";
import type { Command, CommandContext } from "./command.js";

/** Done, or waiting for a plan decision: success. Failed, Rejected, Cancelled: exit 1. */
function exitCodeOf(run: Run): ExitCode {
  return run.status === "Done" || run.status === "PlanningReview" ? ExitCode.ok : ExitCode.failed;
}

async function waitForRun(context: CommandContext, runId: string, manualApproval: boolean): Promise<ExitCode> {
  const { io } = context;
  const client = await context.client();
  const until = (status: TaskStatus): boolean => isTerminal(status) || (manualApproval && status === "PlanningReview");
  const activity = new ActivityLines();
  const interrupted = (): CliError =>
    new CliError("INTERRUPTED", `stopped waiting; run ${runId} goes on (follow it with \`kodo logs ${runId} --follow\`)`, ExitCode.interrupted);
  const reached = await followRun(client, {
    runId,
    until,
    fromStart: false,
    onEvent: (event) => {
      if (context.json) return;
      const line = formatEvent(event, activity);
      if (line !== undefined) io.stdout(line);
    },
    onReconnecting: ({ reason, delayMs }) => io.stderr(`kodo: event stream lost (${reason}); reconnecting in ${delayMs} ms`),
  }).catch((error: unknown) => {
    // Ctrl-C during the reconciling GET is the same as Ctrl-C between events.
    throw error instanceof CliError && error.code === "INTERRUPTED" ? interrupted() : error;
  });
  if (reached === undefined) throw interrupted();
  const run = await client.getRun(runId);
  if (context.json) {
    context.printJson(run);
    return exitCodeOf(run);
  }
  io.stdout("");
  for (const line of formatRun(run)) io.stdout(line);
  const next = nextStep(run);
  if (next !== undefined) io.stdout(`\n${next}`);
  if (exitCodeOf(run) !== ExitCode.ok) {
    const why = run.error === null ? "" : `: ${run.error.code}: ${run.error.message}`;
    io.stderr(`kodo: RUN_${run.status.toUpperCase()}: run ${run.id} ended ${run.status}${why}`);
  }
  return exitCodeOf(run);
}

export const taskRun: Command = {
  spec: {
    name: "task run",
    group: "tasks",
    summary: "Start a run of the task. With --wait, follow it until it ends or its plan waits for approval; the exit code tells which.",
    synopsis: "TASK_ID [--wait]",
    positionals: ["TASK_ID"],
    options: { wait: { type: "boolean", description: "follow the run; exit 0 when Done or waiting in PlanningReview, 1 when Failed/Rejected/Cancelled" } },
    client: true,
    examples: ["kodo task run tsk_01hzyx7k2m", "kodo task run tsk_01hzyx7k2m --wait", "kodo task run tsk_01hzyx7k2m --wait --json"],
  },
  async run(context) {
    const taskId = context.args.positional("TASK_ID");
    const client = await context.client();
    const wait = context.args.flag("wait");
    const task = wait ? await client.getTask(taskId) : undefined;
    const started = await client.executeTask(taskId);
    if (!wait || task === undefined) {
      if (context.json) context.printJson(started);
      else context.io.stdout(`run ${started.runId} of task ${started.taskId} started (${started.status}); follow it: kodo logs ${started.runId} --follow`);
      return ExitCode.ok;
    }
    if (!context.json) context.io.stdout(`run ${started.runId} of task ${started.taskId} started; waiting (Ctrl-C stops waiting, not the run)`);
    return waitForRun(context, started.runId, task.planApproval === "manual");
  },
};
