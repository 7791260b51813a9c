import { isTerminal, type StoredEvent, type TaskStatus } from "@kodo/contracts";
import { CliError, ExitCode } from "../errors.js";
import { decisionHint, nextStep } from "../format.js";
import { ActivityLines, formatEvent, runTimeline } from "../format-events.js";
import { followRun } from "../follow-run.js";
import type { Command, CommandContext } from "./command.js";

async function follow(context: CommandContext, runId: string): Promise<ExitCode> {
  const { io } = context;
  const client = await context.client();
  const events: StoredEvent[] = [];
  const activity = new ActivityLines();
  if (!context.json) io.stdout(`following run ${runId} (Ctrl-C to stop)`);
  let reached: TaskStatus | undefined;
  try {
    reached = await followRun(client, {
      runId,
      until: isTerminal,
      fromStart: true,
      onEvent: (event) => {
        if (context.json) {
          events.push(event);
          return;
        }
        const line = formatEvent(event, activity);
        if (line !== undefined) io.stdout(line);
        const change = event.event;
        if (change.type === "task.status_changed" && change.to === "PlanningReview") {
          io.stdout(`        ${decisionHint(runId)}`);
        }
      },
      onReconnecting: ({ reason, delayMs }) => io.stderr(`kodo: event stream lost (${reason}); reconnecting in ${delayMs} ms`),
    });
  } catch (error) {
    // Ctrl-C while a request was in flight: as clean as Ctrl-C between events.
    if (!(error instanceof CliError && error.code === "INTERRUPTED")) throw error;
  }
  if (context.json) context.printJson({ runId, status: reached ?? null, finished: reached !== undefined, events });
  else if (reached !== undefined) io.stdout(`run ${runId} ended ${reached}`);
  return ExitCode.ok;
}

export const logs: Command = {
  spec: {
    name: "logs",
    group: "runs",
    summary: "Print what happened in a run: status changes, agent activity, plan decisions, model calls. --follow streams until the run ends.",
    synopsis: "RUN_ID [--follow]",
    positionals: ["RUN_ID"],
    options: { follow: { type: "boolean", short: "f", description: "keep streaming until the run ends (reconnects on its own; Ctrl-C stops)" } },
    client: true,
    examples: ["kodo logs run_01hzyx9q4t", "kodo logs run_01hzyx9q4t --follow", "kodo logs run_01hzyx9q4t --json"],
  },
  async run(context) {
    const runId = context.args.positional("RUN_ID");
    const client = await context.client();
    const run = await client.getRun(runId);
    if (context.args.flag("follow") && !isTerminal(run.status)) return follow(context, run.id);
    const activity = run.sessionId === null ? [] : await client.allSessionActivity(run.sessionId);
    if (context.json) {
      context.printJson({ run, activity });
      return ExitCode.ok;
    }
    const { io } = context;
    io.stdout(`run ${run.id} of task ${run.taskId}: ${run.status}`);
    for (const line of runTimeline(run, activity)) io.stdout(line);
    if (run.error !== null) io.stdout(`error: ${run.error.code}: ${run.error.message}`);
    const next = nextStep(run);
    if (next !== undefined) io.stdout(next);
    return ExitCode.ok;
  },
};
