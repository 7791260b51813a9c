/** The values the policy engine takes and gives. */
import type { ReasonCode } from "./codes.js";
import type { Effect, Rule } from "./schema.js";

export interface PolicyContext {
  /** the worktree `within` roots are relative to; without it a `within` check refuses (WORKTREE_REQUIRED) */
  worktree?: string;
  /** what a `$testRoots` root stands for: the repository's test roots */
  testRoots?: readonly string[];
  /** what a `$writeRoots` root stands for: where the agent may write */
  writeRoots?: readonly string[];
}

export interface PolicyRequest {
  tool: string;
  action: string;
  args: Readonly<Record<string, string>>;
  context?: PolicyContext;
}

export interface PolicyDecision {
  allowed: boolean;
  effect: Effect;
  decisionReason: string;
  code: ReasonCode;
  /** the ids of the rules behind the decision, in evaluation order (see docs/policy.md) */
  matchedRules: string[];
  /** the real path a `within` check resolved (run or open this, never the raw argument) */
  resolved?: string;
}

export type PolicyLayer = "task" | "repo" | "defaults";

export interface LayeredRule extends Rule {
  layer: PolicyLayer;
}

/** The rules in force, in evaluation order: task rules, then repo rules, then the defaults. */
export interface ResolvedPolicy {
  rules: readonly LayeredRule[];
}
