/**
 * Per-repo and per-task policies over the defaults. Evaluation order is task rules, then repo
 * rules, then the defaults. Because deny beats allow (evaluate.ts), a layer cannot loosen a lower
 * layer's deny by adding an allow; it can
 *   - replace a lower rule by defining a rule with the same `id` (the lower one is dropped), or
 *   - drop every lower layer with `extends: "none"` (a task policy with it drops the repo's
 *     policy and the defaults; a repo policy with it drops the defaults).
 */
import { DEFAULT_RULES } from "./defaults.js";
import type { Policy, Rule } from "./schema.js";
import type { LayeredRule, PolicyLayer, ResolvedPolicy } from "./types.js";

function layer(rules: readonly Rule[], name: PolicyLayer): LayeredRule[] {
  return rules.map((rule) => ({ ...rule, layer: name }));
}

export function resolvePolicy(o: { repoPolicy?: Policy; taskPolicy?: Policy } = {}): ResolvedPolicy {
  const stack: LayeredRule[][] = [];
  const layers: [PolicyLayer, Policy | undefined][] = [
    ["task", o.taskPolicy],
    ["repo", o.repoPolicy],
  ];
  let withDefaults = true;
  for (const [name, policy] of layers) {
    if (policy === undefined) continue;
    stack.push(layer(policy.rules, name));
    if (policy.extends === "none") {
      withDefaults = false;
      break;
    }
  }
  if (withDefaults) stack.push(layer(DEFAULT_RULES, "defaults"));
  const seen = new Set<string>();
  const rules: LayeredRule[] = [];
  for (const rule of stack.flat()) {
    if (seen.has(rule.id)) continue;
    seen.add(rule.id);
    rules.push(rule);
  }
  return { rules };
}
