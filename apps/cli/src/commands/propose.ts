import { readFile } from "node:fs/promises";
import path from "node:path";
import { Capability, type BlockingCondition, type CreateProposalRequest } from "@kodo/contracts";
import { UsageError, type Args, type CommandSpec, type OptionSpec } from "../args.js";
import { CliError, ExitCode } from "../errors.js";
import { formatProposal } from "../format-governance.js";
import { AS_OPTION } from "./actor-option.js";
import type { Command, CommandContext } from "./command.js";
import { QUORUM_OPTIONS, REPO_OPTION, listOption, quorumRules, repoOption } from "./governance.js";

const CONDITION_OPTION: OptionSpec = {
  type: "string",
  value: 'ID="TEXT"',
  multiple: true,
  description: "a blocking condition: the proposal stays inactive until an approving vote marks it met (and none unmet); repeatable",
};

function conditions(args: Args): BlockingCondition[] {
  return args.strings("condition").map((raw) => {
    const at = raw.indexOf("=");
    const id = at < 0 ? "" : raw.slice(0, at).trim();
    const description = at < 0 ? "" : raw.slice(at + 1).trim().replace(/^"(.*)"$/s, "$1");
    if (id === "" || description === "") throw new UsageError(`--condition ${JSON.stringify(raw)}: expected ID="what must be true"`, args.spec);
    return { id, description };
  });
}

/** kind and payload of one member of the request union (distributed, so they stay matched) */
type Payload = CreateProposalRequest extends infer Request ? (Request extends CreateProposalRequest ? Pick<Request, "kind" | "payload"> : never) : never;

/** A `propose …` command: its own options make the payload; repo, conditions and --as are shared. */
function proposeCommand(spec: Omit<CommandSpec, "group" | "positionals" | "client">, payload: (context: CommandContext) => Promise<Payload>): Command {
  return {
    spec: { ...spec, group: "governance", positionals: [], client: true, options: { repo: REPO_OPTION, ...spec.options, condition: CONDITION_OPTION, as: AS_OPTION } },
    async run(context) {
      const repoPath = repoOption(context.args, context.io.cwd);
      const blockingConditions = conditions(context.args);
      const request: CreateProposalRequest = { repoPath, ...(await payload(context)), ...(blockingConditions.length === 0 ? {} : { blockingConditions }) };
      const client = await context.client();
      const proposal = await client.createProposal(request);
      if (context.json) {
        context.printJson(proposal);
      } else {
        for (const line of formatProposal(proposal)) context.io.stdout(line);
        context.io.stdout(`next: each approver votes with kodo vote ${proposal.id} approve --as NAME`);
      }
      return ExitCode.ok;
    },
  };
}

export const proposePolicy = proposeCommand(
  {
    name: "propose policy",
    summary: "Propose a repository policy (a JSON or YAML policy file); it is in force once its quorum approves.",
    synopsis: '--repo PATH --file F [--condition ID="TEXT" …] [--as NAME]',
    options: { file: { type: "string", value: "F", description: "the policy file (.json, .yaml or .yml), validated as `kodo policy check --policy` does" } },
    examples: ['kodo propose policy --repo . --file kodo-policy.yaml --condition sec="security reviewed the rules" --as alice'],
  },
  async ({ args, io }) => {
    const file = path.resolve(io.cwd, args.requireString("file"));
    let source: string;
    try {
      source = await readFile(file, "utf8");
    } catch (error) {
      throw new CliError("POLICY_FILE_UNREADABLE", `cannot read --file ${file}: ${(error as Error).message}`, ExitCode.usage, { cause: error });
    }
    const format = /\.ya?ml$/i.test(file) ? "yaml" : "json";
    return { kind: "policy", payload: { source, format, file: path.basename(file) } };
  },
);

export const proposeWriteAllowlist = proposeCommand(
  {
    name: "propose write-allowlist",
    summary: "Propose the paths (relative to the worktree) agents may write; it replaces the active list once its quorum approves.",
    synopsis: '--repo PATH --paths A,B [--condition ID="TEXT" …] [--as NAME]',
    options: { paths: { type: "string", value: "A,B,…", description: "comma-separated relative paths (no absolute paths, no ..)" } },
    examples: ["kodo propose write-allowlist --repo . --paths src,test --as alice"],
  },
  async ({ args }) => ({ kind: "write_allowlist", payload: { paths: listOption(args, "paths") ?? [] } }),
);

export const proposeCapability = proposeCommand(
  {
    name: "propose capability",
    summary: `Propose the capabilities agents have (${Capability.options.join(", ")}); the listed set replaces the active one once its quorum approves.`,
    synopsis: '--repo PATH --enable C,… [--disable C,…] [--condition ID="TEXT" …] [--as NAME]',
    options: {
      enable: { type: "string", value: "C,…", multiple: true, description: `capabilities to enable (${Capability.options.join(", ")}); the others are off` },
      disable: { type: "string", value: "C,…", multiple: true, description: "capabilities to list as explicitly off" },
    },
    examples: ["kodo propose capability --repo . --enable tests --as alice"],
  },
  async ({ args }) => {
    const names = (option: string): string[] => args.strings(option).flatMap((raw) => raw.split(",").map((item) => item.trim()).filter((item) => item !== ""));
    const capabilities: Partial<Record<Capability, boolean>> = {};
    for (const [option, on] of [["enable", true], ["disable", false]] as const) {
      for (const name of names(option)) {
        const parsed = Capability.safeParse(name);
        if (!parsed.success) throw new UsageError(`--${option}: unknown capability ${JSON.stringify(name)} (known: ${Capability.options.join(", ")})`, args.spec);
        if (capabilities[parsed.data] !== undefined && capabilities[parsed.data] !== on) throw new UsageError(`${name} is both enabled and disabled`, args.spec);
        capabilities[parsed.data] = on;
      }
    }
    if (Object.keys(capabilities).length === 0) throw new UsageError("--enable (or --disable) is required", args.spec);
    return { kind: "capability", payload: { capabilities } };
  },
);

export const proposeGovernance = proposeCommand(
  {
    name: "propose governance",
    summary: "Propose new quorum rules for a repository (the rules in force approve the change). Without --plan-approvers the plan quorum is removed.",
    synopsis: '--repo PATH --approvers A,B,C --required N [--plan-approvers A,B --plan-required N] [--condition ID="TEXT" …] [--as NAME]',
    options: QUORUM_OPTIONS,
    examples: ["kodo propose governance --repo . --approvers alice,bob,carol --required 2 --as alice"],
  },
  async ({ args }) => ({ kind: "governance", payload: quorumRules(args) }),
);
