import path from "node:path";
import { UsageError, type Args } from "../args.js";
import { CliError, ExitCode } from "../errors.js";
import type * as PolicyExports from "@kodo/server/policy";
import type { ResolvedPolicy } from "@kodo/server/policy";
import type { Command } from "./command.js";

type PolicyModule = typeof PolicyExports;

/** `--arg k=v` (repeatable) as a record; the value may contain `=`, the key may not be empty or repeated. */
function parseArgPairs(args: Args): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of args.strings("arg")) {
    const separator = pair.indexOf("=");
    if (separator <= 0) throw new UsageError(`--arg must be KEY=VALUE, got ${JSON.stringify(pair)}`, args.spec);
    const key = pair.slice(0, separator);
    if (Object.hasOwn(result, key)) throw new UsageError(`--arg ${key} is given twice`, args.spec);
    Object.defineProperty(result, key, { value: pair.slice(separator + 1), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

function rootList(args: Args, name: string): string[] | undefined {
  const raw = args.string(name);
  if (raw === undefined) return undefined;
  return raw
    .split(",")
    .map((root) => root.trim())
    .filter((root) => root !== "");
}

/** The policy file (layered over the defaults as the repo policy), or a POLICY_INVALID usage failure (exit 2). */
async function loadPolicyOption(policy: PolicyModule, file: string | undefined, cwd: string): Promise<ResolvedPolicy> {
  if (file === undefined) return policy.resolvePolicy({});
  try {
    return policy.resolvePolicy({ repoPolicy: await policy.loadPolicy(path.resolve(cwd, file)) });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "POLICY_INVALID") {
      const details = (error as { details?: Record<string, unknown> }).details;
      throw new CliError("POLICY_INVALID", (error as Error).message, ExitCode.usage, details === undefined ? {} : { details });
    }
    throw error;
  }
}

export const policyCheck: Command = {
  spec: {
    name: "policy check",
    group: "policy",
    summary: "What would the policy decide for a tool call? Prints the decision; no server needed.",
    synopsis: "--tool T --action A [--arg KEY=VALUE …] [--policy FILE] [--worktree DIR] [--test-roots A,B] [--write-roots A,B]",
    positionals: [],
    options: {
      tool: { type: "string", value: "T", description: "the tool: tests, bash, fs, read, webfetch, task, …" },
      action: { type: "string", value: "A", description: "the action: run, read, write, delete, …" },
      arg: { type: "string", value: "KEY=VALUE", multiple: true, description: "an argument of the call (repeatable)" },
      policy: { type: "string", value: "FILE", description: "a policy file (.json, .yaml, .yml), layered over the built-in defaults" },
      worktree: { type: "string", value: "DIR", description: "the worktree `within` checks resolve against (default: the current directory)" },
      "test-roots": { type: "string", value: "A,B", description: "the repository's test roots, relative to the worktree ($testRoots)" },
      "write-roots": { type: "string", value: "A,B", description: "where writes are allowed, relative to the worktree ($writeRoots)" },
    },
    client: false,
    examples: [
      "kodo policy check --tool tests --action run --arg target=tests/test_slug.py --test-roots tests",
      "kodo policy check --tool bash --action run --arg 'command=git clean -fd' --json",
      "kodo policy check --tool webfetch --action get --policy kodo-policy.yaml",
    ],
  },
  async run(context) {
    const { args, io } = context;
    const tool = args.requireString("tool");
    const action = args.requireString("action");
    const callArgs = parseArgPairs(args);
    const testRoots = rootList(args, "test-roots");
    const writeRoots = rootList(args, "write-roots");
    const policy = await import("@kodo/server/policy");
    const resolved = await loadPolicyOption(policy, args.string("policy"), io.cwd);
    const decision = await policy.evaluate(resolved, {
      tool,
      action,
      args: callArgs,
      context: {
        worktree: path.resolve(io.cwd, args.string("worktree") ?? "."),
        ...(testRoots === undefined ? {} : { testRoots }),
        ...(writeRoots === undefined ? {} : { writeRoots }),
      },
    });
    if (context.json) {
      context.printJson(decision);
    } else {
      const verdict = decision.allowed ? "allowed" : decision.effect === "ask" ? "ask" : "denied";
      const rules = decision.matchedRules.length === 0 ? "no rule" : `rules: ${decision.matchedRules.join(", ")}`;
      io.stdout(`${verdict} (${decision.code}): ${decision.decisionReason} [${rules}]`);
      if (decision.resolved !== undefined) io.stdout(`resolved: ${decision.resolved}`);
    }
    return decision.allowed ? ExitCode.ok : ExitCode.failed;
  },
};
