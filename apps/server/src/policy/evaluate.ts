/**
 * `evaluate(policy, request) → PolicyDecision`. The semantics (docs/policy.md):
 *
 *  1. A rule applies when its `tool` and `action` equal the request's (or are "*").
 *  2. An applying rule whose `requires` names an argument that is absent or blank matches as a
 *     deny with ARG_REQUIRED, whatever its effect (fail closed).
 *  3. Otherwise it matches when every `when` condition holds.
 *  4. Among the matching rules, deny beats ask beats allow; among rules of the winning effect the
 *     first in evaluation order (task, repo, defaults) gives the code and the reason.
 *  5. No match: if an applying rule failed only on a `within` check, deny with that check's code
 *     (TARGET_OUTSIDE_ROOTS, SYMLINK_LOOP, WORKTREE_REQUIRED, …); else deny DENIED_BY_DEFAULT.
 *
 * `matchedRules` lists every matching rule in evaluation order; in case 5 it lists the rule whose
 * `within` check decided.
 */
import type { ReasonCode } from "./codes.js";
import { cheapCondition, withinCondition, type ConditionResult } from "./conditions.js";
import type { Condition, Effect } from "./schema.js";
import type { LayeredRule, PolicyDecision, PolicyRequest, ResolvedPolicy } from "./types.js";

type Scope = NonNullable<ConditionResult["scope"]>;

type RuleOutcome =
  | { kind: "skip" }
  | { kind: "match"; rule: LayeredRule; effect: Effect; code: ReasonCode; reason: string; resolved: string | null }
  | { kind: "near"; rule: LayeredRule; scope: Scope };

const DEFAULT_CODES: Record<Effect, ReasonCode> = { allow: "ALLOWED", deny: "DENIED_BY_RULE", ask: "ASK_REQUIRED" };

function applies(rule: LayeredRule, request: PolicyRequest): boolean {
  return (rule.tool === "*" || rule.tool === request.tool) && (rule.action === "*" || rule.action === request.action);
}

function missingArgs(rule: LayeredRule, args: PolicyRequest["args"]): string[] {
  return (rule.requires ?? []).filter((name) => !Object.hasOwn(args, name) || (args[name] ?? "").trim() === "");
}

function ruleReason(rule: LayeredRule, effect: Effect): string {
  return `rule ${rule.id}: ${rule.reason ?? `${effect} ${rule.tool} ${rule.action}`}`;
}

async function evaluateRule(rule: LayeredRule, request: PolicyRequest): Promise<RuleOutcome> {
  if (!applies(rule, request)) return { kind: "skip" };
  const missing = missingArgs(rule, request.args);
  if (missing.length > 0) {
    const names = missing.map((name) => JSON.stringify(name)).join(", ");
    return { kind: "match", rule, effect: "deny", code: "ARG_REQUIRED", reason: `rule ${rule.id}: requires the argument ${names}, which is missing (fail closed)`, resolved: null };
  }
  const conditions = rule.when ?? [];
  // The pure matchers first: a rule that fails one of them never pays for a file-system walk.
  const needsWalk: Condition[] = [];
  for (const condition of conditions) {
    const holds = cheapCondition(condition, request.args);
    if (holds === false) return { kind: "skip" };
    if (holds === undefined) needsWalk.push(condition);
  }
  let scope: Scope | undefined;
  for (const condition of needsWalk) {
    const result = await withinCondition(condition, request.args, request.context ?? {});
    if (!result.holds) return result.scope !== undefined && condition.not !== true ? { kind: "near", rule, scope: result.scope } : { kind: "skip" };
    scope ??= result.scope;
  }
  const reason = ruleReason(rule, rule.effect) + (scope === undefined ? "" : ` (${scope.reason})`);
  return { kind: "match", rule, effect: rule.effect, code: rule.code ?? DEFAULT_CODES[rule.effect], reason, resolved: scope?.resolved ?? null };
}

function withResolved(decision: Omit<PolicyDecision, "resolved">, resolved: string | null): PolicyDecision {
  return resolved === null ? decision : { ...decision, resolved };
}

export async function evaluate(policy: ResolvedPolicy, request: PolicyRequest): Promise<PolicyDecision> {
  if (request.tool === "" || request.action === "") {
    return { allowed: false, effect: "deny", code: "ARG_REQUIRED", decisionReason: "the request names no tool or no action (fail closed)", matchedRules: [] };
  }
  const outcomes: RuleOutcome[] = [];
  for (const rule of policy.rules) outcomes.push(await evaluateRule(rule, request));
  const matches = outcomes.filter((outcome) => outcome.kind === "match");
  const matchedRules = matches.map((outcome) => outcome.rule.id);
  for (const effect of ["deny", "ask", "allow"] as const) {
    const winner = matches.find((outcome) => outcome.effect === effect);
    if (winner === undefined) continue;
    const resolved = winner.resolved ?? matches.find((outcome) => outcome.resolved !== null)?.resolved ?? null;
    return withResolved({ allowed: effect === "allow", effect, code: winner.code, decisionReason: winner.reason, matchedRules }, resolved);
  }
  const near = outcomes.find((outcome) => outcome.kind === "near");
  if (near !== undefined) {
    return withResolved(
      { allowed: false, effect: "deny", code: near.scope.code, decisionReason: `rule ${near.rule.id} does not allow it: ${near.scope.reason}`, matchedRules: [near.rule.id] },
      near.scope.resolved,
    );
  }
  return {
    allowed: false,
    effect: "deny",
    code: "DENIED_BY_DEFAULT",
    decisionReason: `no rule allows ${request.tool} ${request.action} (deny by default)`,
    matchedRules: [],
  };
}
