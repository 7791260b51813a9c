import path from "node:path";
import { ProposalStatus, VoteChoice } from "@kodo/contracts";
import { UsageError } from "../args.js";
import { ExitCode } from "../errors.js";
import { formatProposal, formatProposalTable } from "../format-governance.js";
import { AS_OPTION } from "./actor-option.js";
import type { Command } from "./command.js";

export const proposals: Command = {
  spec: {
    name: "proposals",
    group: "governance",
    summary: "List proposals, newest first, with their votes (approvals/required).",
    synopsis: "[--repo PATH] [--status S]",
    positionals: [],
    options: {
      repo: { type: "string", value: "PATH", description: "only this repository's proposals" },
      status: { type: "string", value: "S", description: `only proposals in this status (${ProposalStatus.options.join(", ")})` },
    },
    client: true,
    examples: ["kodo proposals --repo . --status pending", "kodo proposals --json"],
  },
  async run(context) {
    const { args, io } = context;
    const repo = args.string("repo");
    const status = args.oneOf("status", ProposalStatus.options);
    const client = await context.client();
    const list = await client.listProposals({ ...(repo === undefined ? {} : { repoPath: path.resolve(io.cwd, repo) }), ...(status === undefined ? {} : { status }) });
    if (context.json) context.printJson({ proposals: list });
    else for (const line of formatProposalTable(list)) io.stdout(line);
    return ExitCode.ok;
  },
};

export const vote: Command = {
  spec: {
    name: "vote",
    group: "governance",
    summary: "Vote on a proposal as one of its approvers, marking blocking conditions met or unmet. A vote cannot be changed; condition marks can.",
    synopsis: "PROPOSAL_ID approve|reject --as NAME [--met ID …] [--unmet ID …] [--comment C]",
    positionals: ["PROPOSAL_ID", "VOTE"],
    options: {
      as: AS_OPTION,
      met: { type: "string", value: "ID", multiple: true, description: "a blocking condition you confirm is met; repeatable" },
      unmet: { type: "string", value: "ID", multiple: true, description: "a blocking condition that is not met (blocks activation); repeatable" },
      comment: { type: "string", value: "C", description: "a note stored with the vote" },
    },
    client: true,
    examples: ["kodo vote prp_01hzyx9q4t approve --as alice --met sec", 'kodo vote prp_01hzyx9q4t reject --as bob --comment "too wide"'],
  },
  async run(context) {
    const { args, io } = context;
    const proposalId = args.positional("PROPOSAL_ID");
    const choice = VoteChoice.safeParse(args.positional("VOTE").toLowerCase());
    if (!choice.success) throw new UsageError(`VOTE must be approve or reject, got ${JSON.stringify(args.positional("VOTE"))}`, args.spec);
    args.requireString("as");
    const conditions: Record<string, boolean> = {};
    for (const id of args.strings("met")) conditions[id] = true;
    for (const id of args.strings("unmet")) {
      if (conditions[id] === true) throw new UsageError(`condition ${id} is both --met and --unmet`, args.spec);
      conditions[id] = false;
    }
    const comment = args.string("comment");
    const client = await context.client();
    const proposal = await client.vote(proposalId, {
      vote: choice.data,
      ...(Object.keys(conditions).length === 0 ? {} : { conditions }),
      ...(comment === undefined ? {} : { comment }),
    });
    if (context.json) context.printJson(proposal);
    else for (const line of formatProposal(proposal)) io.stdout(line);
    return ExitCode.ok;
  },
};
