import type { PermissionRule } from "./permissions.js";

/**
 * `KODO_ASK_PERMISSIONS`: a person is asked for these permissions. Every rule that would allow one
 * of them says `ask` instead, so OpenCode routes the call through the permission bridge. Denials
 * stay denials: asking a person never widens what the agent may do.
 */
export function askInsteadOfAllow(rules: readonly PermissionRule[], permissions: readonly string[]): PermissionRule[] {
  if (permissions.length === 0) return [...rules];
  const ask = new Set(permissions);
  return rules.map((rule) => (rule.action === "allow" && ask.has(rule.permission) ? { ...rule, action: "ask" } : rule));
}
