import path from "node:path";
import type { GovernanceRules } from "@kodo/contracts";
import { UsageError, type Args, type OptionSpec } from "../args.js";
import { ExitCode } from "../errors.js";
import { formatActive, formatGovernance } from "../format-governance.js";
import { AS_OPTION } from "./actor-option.js";
import type { Command } from "./command.js";

export const REPO_OPTION: OptionSpec = { type: "string", value: "PATH", description: "the git repository (resolved against the current directory)" };

/** The options that describe quorum rules (governance set, propose governance). */
export const QUORUM_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  approvers: { type: "string", value: "A,B,…", description: "comma-separated names of the approvers of proposals" },
  required: { type: "string", value: "N", description: "how many of them must approve (= their number: unanimous)" },
  "plan-approvers": { type: "string", value: "A,B,…", description: "approvers of plans: a plan then needs this quorum instead of one approval" },
  "plan-required": { type: "string", value: "N", description: "how many plan approvers must approve (with --plan-approvers)" },
};

export function listOption(args: Args, name: string): string[] | undefined {
  const raw = args.string(name);
  return raw === undefined ? undefined : raw.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

export function repoOption(args: Args, cwd: string): string {
  return path.resolve(cwd, args.requireString("repo"));
}

/** Quorum rules from --approvers/--required/--plan-approvers/--plan-required. */
export function quorumRules(args: Args): GovernanceRules {
  const approvers = listOption(args, "approvers") ?? [];
  if (approvers.length === 0) throw new UsageError("--approvers is required (comma-separated names)", args.spec);
  const required = args.integer("required", { min: 1, max: approvers.length });
  if (required === undefined) throw new UsageError("--required is required", args.spec);
  const planApprovers = listOption(args, "plan-approvers");
  const planRequired = args.integer("plan-required", { min: 1, max: Math.max(1, planApprovers?.length ?? 1) });
  if ((planApprovers === undefined) !== (planRequired === undefined)) throw new UsageError("--plan-approvers and --plan-required go together", args.spec);
  return {
    approvers,
    required,
    planQuorum: planApprovers === undefined || planRequired === undefined ? null : { approvers: planApprovers, required: planRequired },
  };
}

export const governanceSet: Command = {
  spec: {
    name: "governance set",
    group: "governance",
    summary: "Set a repository's first quorum rules: who approves proposals, how many must, and (optionally) a plan quorum. Later changes are proposals.",
    synopsis: "--repo PATH --approvers A,B,C --required N [--plan-approvers A,B,C --plan-required N] [--as NAME]",
    positionals: [],
    options: { repo: REPO_OPTION, ...QUORUM_OPTIONS, as: AS_OPTION },
    client: true,
    examples: ["kodo governance set --repo . --approvers alice,bob,carol,dave --required 3", "kodo governance set --repo . --approvers alice,bob --required 2 --plan-approvers alice,bob,carol --plan-required 2"],
  },
  async run(context) {
    const repoPath = repoOption(context.args, context.io.cwd);
    const rules = quorumRules(context.args);
    const client = await context.client();
    const governance = await client.putGovernance({ repoPath, ...rules });
    if (context.json) context.printJson(governance);
    else for (const line of formatGovernance(governance)) context.io.stdout(line);
    return ExitCode.ok;
  },
};

export const governanceShow: Command = {
  spec: {
    name: "governance show",
    group: "governance",
    summary: "Show a repository's quorum rules and what is in force (policy, write allowlist, capabilities).",
    synopsis: "--repo PATH",
    positionals: [],
    options: { repo: REPO_OPTION },
    client: true,
    examples: ["kodo governance show --repo .", "kodo governance show --repo . --json"],
  },
  async run(context) {
    const repoPath = repoOption(context.args, context.io.cwd);
    const client = await context.client();
    const [governance, active] = await Promise.all([client.governance(repoPath), client.activeGovernance(repoPath)]);
    if (context.json) {
      context.printJson({ governance, active });
    } else {
      for (const line of formatGovernance(governance)) context.io.stdout(line);
      for (const line of formatActive(active)) context.io.stdout(line);
    }
    return ExitCode.ok;
  },
};
