import { ApprovalStatusFilter, type Approval } from "@kodo/contracts";
import { UsageError } from "../args.js";
import { ExitCode } from "../errors.js";
import { clock, columns, truncate } from "../format.js";
import { AS_OPTION } from "./actor-option.js";
import type { Command } from "./command.js";

const DECISIONS = ["once", "always", "reject"] as const;

/** What was asked, in one line: the permission and its patterns, or the first question. */
function askOf(approval: Approval): string {
  if (approval.kind === "question") return `question: ${approval.questions?.[0]?.question ?? "?"}`;
  return `${approval.permission ?? "?"} ${approval.patterns.join(", ")}`.trim();
}

function stateOf(approval: Approval): string {
  if (approval.status === "pending") return "pending";
  return `${approval.status} ${approval.decision ?? "?"} by ${approval.answeredBy ?? "?"}`;
}

export function formatApprovalTable(approvals: readonly Approval[]): string[] {
  if (approvals.length === 0) return ["no approvals"];
  return columns([
    ["ID", "RUN", "DEADLINE", "STATE", "ASK"],
    ...approvals.map((approval) => [approval.id, approval.runId, clock(approval.deadlineAt), stateOf(approval), truncate(askOf(approval), 80)]),
  ]);
}

export const approvals: Command = {
  spec: {
    name: "approvals",
    group: "runs",
    summary: "List the agents' asks that wait for a person (or, with --status, answered and expired ones).",
    synopsis: "[--run RUN_ID] [--status S]",
    positionals: [],
    options: {
      run: { type: "string", value: "RUN_ID", description: "only the asks of this run" },
      status: { type: "string", value: "S", description: `${ApprovalStatusFilter.options.join(", ")} (default pending)` },
    },
    client: true,
    examples: ["kodo approvals", "kodo approvals --run run_01hzyx9q4t --status all --json"],
  },
  async run(context) {
    const { args } = context;
    const status = args.oneOf("status", ApprovalStatusFilter.options);
    const runId = args.string("run");
    const client = await context.client();
    const list = await client.listApprovals({ ...(status === undefined ? {} : { status }), ...(runId === undefined ? {} : { runId }) });
    if (context.json) context.printJson({ approvals: list });
    else {
      for (const line of formatApprovalTable(list)) context.io.stdout(line);
      if (list.some((approval) => approval.status === "pending")) context.io.stdout("answer with: kodo answer APPROVAL_ID once|always|reject [--message TEXT]");
    }
    return ExitCode.ok;
  },
};

export const answer: Command = {
  spec: {
    name: "answer",
    group: "runs",
    summary: "Answer an agent's ask: once (allow this call), always (calls like it, for the session) or reject.",
    synopsis: "APPROVAL_ID once|always|reject [--message TEXT] [--as NAME]",
    positionals: ["APPROVAL_ID", "DECISION"],
    options: {
      message: { type: "string", value: "TEXT", description: "handed to the agent with the answer; for a question, the answer itself" },
      as: AS_OPTION,
    },
    client: true,
    examples: ["kodo answer apr_01hzyxb2c3d4 once", 'kodo answer apr_01hzyxb2c3d4 reject --message "do not install packages; use what is there"'],
  },
  async run(context) {
    const { args } = context;
    const approvalId = args.positional("APPROVAL_ID");
    const raw = args.positional("DECISION");
    const decision = DECISIONS.find((candidate) => candidate === raw.toLowerCase());
    if (decision === undefined) throw new UsageError(`the decision must be one of ${DECISIONS.join(", ")}, got ${JSON.stringify(raw)}`, args.spec);
    const message = args.string("message");
    const client = await context.client();
    const approval = await client.answerApproval(approvalId, { decision, ...(message === undefined ? {} : { message }) });
    if (context.json) context.printJson(approval);
    else context.io.stdout(`${approval.id} answered ${approval.decision ?? decision} by ${approval.answeredBy ?? "?"}; the agent gets it within a second or two`);
    return ExitCode.ok;
  },
};
