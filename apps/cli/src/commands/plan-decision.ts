import { ExitCode } from "../errors.js";
import type { PlanDecisionResponse } from "@kodo/contracts";
import { AS_OPTION } from "./actor-option.js";
import type { Command } from "./command.js";

/** Under a plan quorum: how many votes are in, and whether the quorum decided. */
function quorumLine(run: PlanDecisionResponse): string | undefined {
  const quorum = run.planQuorum;
  if (quorum === undefined) return undefined;
  const { approvals, rejections, required } = quorum.tally;
  const state = quorum.decision === null ? `the plan waits for its quorum: ${quorum.tally.reason}` : `the quorum ${quorum.decision} the plan`;
  return `plan of run ${run.id}: ${approvals} of ${required} approvals, ${rejections} rejection${rejections === 1 ? "" : "s"}; ${state}`;
}

export const approve: Command = {
  spec: {
    name: "approve",
    group: "runs",
    summary: "Approve the plan of a run waiting in PlanningReview; the build starts.",
    synopsis: "RUN_ID [--comment C] [--as NAME]",
    positionals: ["RUN_ID"],
    options: { comment: { type: "string", value: "C", description: "a note stored with the decision" }, as: AS_OPTION },
    client: true,
    examples: ["kodo approve run_01hzyx9q4t", 'kodo approve run_01hzyx9q4t --comment "keep the API as is"'],
  },
  async run(context) {
    const client = await context.client();
    const run = await client.approvePlan(context.args.positional("RUN_ID"), context.args.string("comment"));
    const quorum = quorumLine(run);
    if (context.json) context.printJson(run);
    else if (quorum !== undefined && run.planQuorum?.decision !== "approved") context.io.stdout(quorum);
    else context.io.stdout(`plan of run ${run.id} approved; follow the build: kodo logs ${run.id} --follow`);
    return ExitCode.ok;
  },
};

export const reject: Command = {
  spec: {
    name: "reject",
    group: "runs",
    summary: "Reject the plan of a run waiting in PlanningReview; the run ends Rejected.",
    synopsis: "RUN_ID --reason R [--as NAME]",
    positionals: ["RUN_ID"],
    options: { reason: { type: "string", value: "R", description: "why (required; stored with the decision)" }, as: AS_OPTION },
    client: true,
    examples: ['kodo reject run_01hzyx9q4t --reason "touches the public API"'],
  },
  async run(context) {
    const runId = context.args.positional("RUN_ID");
    const reason = context.args.requireString("reason");
    const client = await context.client();
    const run = await client.rejectPlan(runId, reason);
    const quorum = quorumLine(run);
    if (context.json) context.printJson(run);
    else if (quorum !== undefined && run.planQuorum?.decision !== "rejected") context.io.stdout(quorum);
    else context.io.stdout(`plan of run ${run.id} rejected: ${reason}`);
    return ExitCode.ok;
  },
};
