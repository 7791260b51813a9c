import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const approve: Command = {
  spec: {
    name: "approve",
    group: "runs",
    summary: "Approve the plan of a run waiting in PlanningReview; the build starts.",
    synopsis: "RUN_ID [--comment C]",
    positionals: ["RUN_ID"],
    options: { comment: { type: "string", value: "C", description: "a note stored with the decision" } },
    client: true,
    examples: ["kodo approve run_01hzyx9q4t", 'kodo approve run_01hzyx9q4t --comment "keep the API as is"'],
  },
  async run(context) {
    const client = await context.client();
    const run = await client.approvePlan(context.args.positional("RUN_ID"), context.args.string("comment"));
    if (context.json) context.printJson(run);
    else context.io.stdout(`plan of run ${run.id} approved; follow the build: kodo logs ${run.id} --follow`);
    return ExitCode.ok;
  },
};

export const reject: Command = {
  spec: {
    name: "reject",
    group: "runs",
    summary: "Reject the plan of a run waiting in PlanningReview; the run ends Rejected.",
    synopsis: "RUN_ID --reason R",
    positionals: ["RUN_ID"],
    options: { reason: { type: "string", value: "R", description: "why (required; stored with the decision)" } },
    client: true,
    examples: ['kodo reject run_01hzyx9q4t --reason "touches the public API"'],
  },
  async run(context) {
    const runId = context.args.positional("RUN_ID");
    const reason = context.args.requireString("reason");
    const client = await context.client();
    const run = await client.rejectPlan(runId, reason);
    if (context.json) context.printJson(run);
    else context.io.stdout(`plan of run ${run.id} rejected: ${reason}`);
    return ExitCode.ok;
  },
};
