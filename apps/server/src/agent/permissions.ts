/**
 * OpenCode permission rules, written out in full.
 *
 * OpenCode evaluates rules with "last match wins" over `agent defaults + config.permission +
 * session.permission`, and a permission whose last `"*"` rule is `deny` removes the tool from what
 * the model is offered. Headless, any permission left at `ask` hangs the session forever, so kodo
 * names every permission OpenCode 1.18.33 knows and gives each an explicit action.
 */

export type PermissionAction = "allow" | "deny" | "ask";

export interface PermissionRule {
  permission: string;
  pattern: string;
  action: PermissionAction;
}

/**
 * Every permission OpenCode 1.18.33 asks for. Sources: the `PermissionConfig` schema of `GET /doc`
 * (read … skill), the built-in agents' rules from `GET /agent` (plan_enter, plan_exit) and the
 * binary (`workflow_tool_approval`). The `write` and `apply_patch` tools ask for `edit`.
 */
export const KNOWN_PERMISSIONS = [
  "read",
  "edit",
  "glob",
  "grep",
  "list",
  "bash",
  "task",
  "external_directory",
  "todowrite",
  "question",
  "webfetch",
  "websearch",
  "lsp",
  "doom_loop",
  "skill",
  "plan_enter",
  "plan_exit",
  "workflow_tool_approval",
] as const;

export type KnownPermission = (typeof KNOWN_PERMISSIONS)[number];

/**
 * Tools that are not permissions but are filtered by the same rules (a `"*": deny` removes them):
 * `StructuredOutput` (offered when a json_schema format is asked for) and `invalid` (how OpenCode
 * answers a call to a tool that is not available). Both only report; kodo always allows them.
 */
export const ALWAYS_ALLOWED_TOOLS = ["StructuredOutput", "invalid"] as const;

const PLAN_ALLOWED: ReadonlySet<KnownPermission> = new Set(["read", "glob", "grep", "list"]);
const BUILD_ALLOWED: ReadonlySet<KnownPermission> = new Set([...PLAN_ALLOWED, "edit", "bash"]);

/** Secrets stay unread even where `read` is allowed (OpenCode's own default asks for these). */
export const SECRET_READ_RULES: readonly PermissionRule[] = [
  { permission: "read", pattern: "*.env", action: "deny" },
  { permission: "read", pattern: "*.env.*", action: "deny" },
  { permission: "read", pattern: "*.env.example", action: "allow" },
];

function explicitRules(allowed: ReadonlySet<KnownPermission>): PermissionRule[] {
  return [
    // Anything OpenCode invents later (or an MCP tool) is denied until kodo names it.
    { permission: "*", pattern: "*", action: "deny" },
    ...KNOWN_PERMISSIONS.map((permission): PermissionRule => ({
      permission,
      pattern: "*",
      action: allowed.has(permission) ? "allow" : "deny",
    })),
    ...ALWAYS_ALLOWED_TOOLS.map((permission): PermissionRule => ({ permission, pattern: "*", action: "allow" })),
    ...SECRET_READ_RULES,
  ];
}

/** The plan agent: may look (read/glob/grep/list), nothing else — no edit, bash, task, web, questions. */
export function planPermissions(): PermissionRule[] {
  return explicitRules(PLAN_ALLOWED);
}

/** The build agent: the plan rules plus edit (which covers write/apply_patch) and bash; `task` stays denied. */
export function buildPermissions(): PermissionRule[] {
  return explicitRules(BUILD_ALLOWED);
}

/**
 * The server-wide `permission` config: every permission denied (the reporting-only tools allowed),
 * so a session created without rules (or a built-in helper agent) can never stop at `ask`.
 * Object key order is rule order.
 */
export function serverPermissionConfig(): Record<string, PermissionAction> {
  const config: Record<string, PermissionAction> = { "*": "deny" };
  for (const permission of KNOWN_PERMISSIONS) config[permission] = "deny";
  for (const tool of ALWAYS_ALLOWED_TOOLS) config[tool] = "allow";
  return config;
}
