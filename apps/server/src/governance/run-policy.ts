/**
 * The policy a run works under: the task's layer, the repository's (the quorum-approved active
 * policy), then the defaults; plus what the policy context needs (worktree, write roots, test
 * roots) and what the worktree audit may let pass.
 */
import type { Pool } from "pg";
import { KodoError } from "../lib/errors.js";
import { resolvePolicy } from "../policy/layers.js";
import { PolicySchema, type Policy } from "../policy/schema.js";
import type { ReasonCode } from "../policy/codes.js";
import type { PolicyContext, ResolvedPolicy } from "../policy/types.js";
import { findRepoSettings } from "../store/verification.js";
import type { TaskRow } from "../store/tasks.js";
import { activeGovernance, findGovernance } from "../store/governance.js";

export interface RunPolicy {
  policy: ResolvedPolicy;
  context: PolicyContext & { worktree: string; writeRoots: string[] };
  audit: { warn: ReadonlySet<ReasonCode>; allowDeletions: string[] };
}

/** A task's policy layer, validated: VALIDATION_FAILED names each bad field. */
export function parseTaskPolicy(input: unknown): Policy {
  const parsed = PolicySchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: ["policy", ...issue.path].join("."), message: issue.message }));
  const first = issues[0];
  throw new KodoError("VALIDATION_FAILED", first === undefined ? "invalid task policy" : `${first.path}: ${first.message}`, { details: { issues } });
}

/**
 * Under governance a task may only narrow: no allow rule, no `extends: "none"`, no rule that
 * replaces a lower one by its id, no audit finding turned into a warning. Widening is a proposal.
 */
export function assertNarrowing(task: Policy, lower: ResolvedPolicy): void {
  const problems: string[] = [];
  if (task.extends === "none") problems.push('extends: "none" drops the repository\'s policy and the defaults');
  const lowerIds = new Set(lower.rules.map((rule) => rule.id));
  for (const rule of task.rules) {
    if (rule.effect === "allow") problems.push(`rule ${rule.id} allows`);
    if (lowerIds.has(rule.id)) problems.push(`rule ${rule.id} replaces a rule of the repository or the defaults`);
  }
  if ((task.audit?.warn?.length ?? 0) > 0) problems.push("audit.warn lets findings pass");
  if ((task.audit?.allowDeletions?.length ?? 0) > 0) problems.push("audit.allowDeletions lets the agent delete");
  if (problems.length > 0) {
    throw new KodoError("POLICY_INVALID", `the repository has governance: a task policy may only narrow it (${problems.join("; ")})`, {
      details: { problems, hint: "widen the repository's policy with a proposal (kodo propose policy)" },
    });
  }
}

/** The repository's active (quorum-approved) policy, validated again on the way out of the database. */
function repoPolicyOf(active: unknown): Policy | undefined {
  if (active === null || active === undefined) return undefined;
  const parsed = PolicySchema.safeParse(active);
  if (!parsed.success) throw new KodoError("POLICY_INVALID", "the repository's active policy no longer validates", { details: { issues: parsed.error.issues } });
  return parsed.data;
}

export async function runPolicy(pool: Pick<Pool, "query">, task: TaskRow, worktree: string): Promise<RunPolicy> {
  const governance = await findGovernance(pool, task.repo_path);
  const active = await activeGovernance(pool, task.repo_path);
  const repoPolicy = repoPolicyOf(active.policy);
  const taskPolicy = task.options.policy;
  if (taskPolicy !== undefined && governance !== undefined) assertNarrowing(taskPolicy, resolvePolicy(repoPolicy === undefined ? {} : { repoPolicy }));
  const policy = resolvePolicy({ ...(repoPolicy === undefined ? {} : { repoPolicy }), ...(taskPolicy === undefined ? {} : { taskPolicy }) });
  const settings = await findRepoSettings(pool, task.repo_path);
  const layers = [taskPolicy, repoPolicy].filter((layer): layer is Policy => layer !== undefined);
  return {
    policy,
    context: { worktree, writeRoots: active.writeAllowlist ?? ["."], testRoots: settings?.testRoots ?? [] },
    audit: {
      warn: new Set(layers.flatMap((layer) => layer.audit?.warn ?? [])),
      allowDeletions: layers.flatMap((layer) => layer.audit?.allowDeletions ?? []),
    },
  };
}
