/**
 * One rule condition against one request. `equals`, `glob` and `regex` are pure; `within` walks
 * the file system the way the kernel would (verify/scope.ts) and reports the scope check's code.
 */
import { checkTestTarget } from "../verify/scope.js";
import type { ReasonCode } from "./codes.js";
import { matchesGlob } from "./glob.js";
import type { Condition } from "./schema.js";
import type { PolicyContext } from "./types.js";

export interface ConditionResult {
  holds: boolean;
  /** for `within`: the scope check's answer */
  scope?: { code: ReasonCode; reason: string; resolved: string | null };
}

function expandRoots(roots: readonly string[], context: PolicyContext): string[] {
  return roots.flatMap((root) => {
    if (root === "$testRoots") return [...(context.testRoots ?? [])];
    if (root === "$writeRoots") return [...(context.writeRoots ?? [])];
    return [root];
  });
}

async function withinCheck(value: string, within: NonNullable<Condition["within"]>, context: PolicyContext): Promise<NonNullable<ConditionResult["scope"]>> {
  if (context.worktree === undefined || context.worktree === "") {
    return { code: "WORKTREE_REQUIRED", reason: "no worktree in the request's context: a `within` check cannot be made", resolved: null };
  }
  const decision = await checkTestTarget({ worktree: context.worktree, roots: expandRoots(within.roots, context), target: value });
  if (within.allowMissing === true && decision.code === "TARGET_NOT_FOUND" && decision.matchedRoot !== null) {
    return { code: "ALLOWED", reason: `${decision.reason} (allowed: it may be created)`, resolved: decision.resolved };
  }
  return { code: decision.code, reason: decision.reason, resolved: decision.resolved };
}

/** Whether the cheap matchers hold (undefined for a `within` condition, which needs I/O). */
export function cheapCondition(condition: Condition, args: Readonly<Record<string, string>>): boolean | undefined {
  const value = Object.hasOwn(args, condition.arg) ? args[condition.arg] : undefined;
  // An absent argument never satisfies a condition, negated or not: `requires` makes absence a denial.
  if (value === undefined) return false;
  if (condition.within !== undefined) return undefined;
  let matched = false;
  if (condition.equals !== undefined) matched = value === condition.equals;
  else if (condition.glob !== undefined) matched = matchesGlob(value, condition.glob);
  else if (condition.regex !== undefined) matched = new RegExp(condition.regex).test(value);
  return condition.not === true ? !matched : matched;
}

/** A `within` condition (call only when `cheapCondition` gave undefined). */
export async function withinCondition(condition: Condition, args: Readonly<Record<string, string>>, context: PolicyContext): Promise<ConditionResult> {
  const value = args[condition.arg] ?? "";
  if (condition.within === undefined) return { holds: false };
  const scope = await withinCheck(value, condition.within, context);
  const inside = scope.code === "ALLOWED";
  return { holds: condition.not === true ? !inside : inside, scope };
}
