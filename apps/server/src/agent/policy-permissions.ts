/**
 * The policy, spoken in OpenCode's terms. Two halves, one mapping:
 *
 * - `agentPermissionRules` writes the per-session rules OpenCode enforces itself (its first line).
 *   Every permission OpenCode knows gets an explicit action: `allow` when the policy allows it
 *   whatever its arguments, `deny` when nothing in the policy could allow it (the tool is then not
 *   even offered to the model), and `ask` when the answer depends on the call (a bash command, the
 *   path of an edit) or the policy says a person decides.
 * - `decidePermission` answers such an ask: the permission bridge calls it for every
 *   `permission.asked`, and only a policy `ask` reaches a person.
 *
 * `ask` here is never an accident: the bridge answers every ask, a person's within a deadline.
 */
import path from "node:path";
import { evaluate } from "../policy/evaluate.js";
import type { PolicyContext, PolicyDecision, PolicyRequest, ResolvedPolicy } from "../policy/types.js";
import { ALWAYS_ALLOWED_TOOLS, KNOWN_PERMISSIONS, SECRET_READ_RULES, type PermissionAction, type PermissionRule } from "./permissions.js";

export type AgentKind = "plan" | "build";

/** What the plan agent may ever do, whatever the policy says: look, keep a todo list, ask a person. */
const PLAN_MAY: ReadonlySet<string> = new Set(["read", "glob", "grep", "list", "todowrite", "question"]);

/**
 * Destructive git, named in OpenCode's own rules (OpenCode matches each command of a pipeline
 * against these). They never reach the agent unjudged: where bash is asked per call they are
 * asked like every command, and where a policy allows bash whatever the command they are still
 * asked — kodo then judges them by the policy's rules and records the decision and its code
 * (`GITCLEANFAIL`, `DESTRUCTIVE_GIT`), which a silent OpenCode deny would not. Patterns are a first
 * line only: `sh -c …` slips past a pattern, so the policy's regex rules, the sandbox and the
 * audit stay in force behind them.
 */
export const DESTRUCTIVE_BASH_PATTERNS = [
  "git clean*",
  "git reset --hard*",
  "git checkout -- *",
  "git checkout .",
  "git checkout -f*",
  "git restore *",
  "git push --force*",
  "git push -f*",
  "git push --delete*",
  "git branch -D*",
  "git branch -d*",
  "git branch --delete*",
  "git stash drop*",
  "git stash clear*",
] as const;

/** Paths OpenCode's file tools must never touch, whatever a policy allows (the server's own process state). */
export const SERVER_PRIVATE_PATHS = ["/proc/*", "/proc"] as const;

/** The policy request a permission stands for (its tool and action; arguments per call). */
export function policyTarget(permission: string): { tool: string; action: string } {
  switch (permission) {
    case "read":
    case "glob":
    case "grep":
    case "list":
      return { tool: "read", action: permission };
    case "edit":
      return { tool: "fs", action: "write" };
    case "bash":
      return { tool: "bash", action: "run" };
    case "external_directory":
      return { tool: "fs", action: "external" };
    case "webfetch":
      return { tool: "webfetch", action: "fetch" };
    case "websearch":
      return { tool: "websearch", action: "search" };
    case "task":
      return { tool: "task", action: "spawn" };
    case "question":
      return { tool: "question", action: "ask" };
    default:
      return { tool: permission, action: "use" };
  }
}

/** One ask, as OpenCode reports it (`permission.asked`). */
export interface PermissionAsk {
  agent: AgentKind;
  permission: string;
  patterns: readonly string[];
  metadata?: Readonly<Record<string, unknown>>;
  /** the session's directory (the worktree) */
  directory: string;
}

function stringField(metadata: PermissionAsk["metadata"], name: string): string | undefined {
  const value = metadata?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The policy requests one ask stands for: one per pattern (a bash command is judged whole). */
export function policyRequests(ask: PermissionAsk, context: PolicyContext): PolicyRequest[] {
  const { tool, action } = policyTarget(ask.permission);
  const request = (args: Record<string, string>): PolicyRequest => ({ tool, action, args, context });
  switch (ask.permission) {
    case "bash": {
      // OpenCode asks per command of a pipeline; the whole line is what runs.
      const command = stringField(ask.metadata, "command");
      return command !== undefined ? [request({ command })] : ask.patterns.map((pattern) => request({ command: pattern }));
    }
    case "edit":
    case "read":
    case "external_directory": {
      const file = stringField(ask.metadata, "filepath");
      const paths = file !== undefined && path.isAbsolute(file) ? [file] : ask.patterns.map((pattern) => path.resolve(ask.directory, pattern));
      return paths.map((file) => request({ path: file }));
    }
    case "webfetch":
      return ask.patterns.map((url) => request({ url }));
    default:
      return ask.patterns.length === 0 ? [request({})] : ask.patterns.map((pattern) => request({ pattern }));
  }
}

/** Some rule could allow (or ask about) this tool and action, given the right arguments. */
function couldAllow(policy: ResolvedPolicy, tool: string, action: string): boolean {
  return policy.rules.some((rule) => rule.effect !== "deny" && (rule.tool === "*" || rule.tool === tool) && (rule.action === "*" || rule.action === action));
}

/** The action OpenCode is told for a permission, from the policy's answer without arguments. */
async function staticAction(policy: ResolvedPolicy, agent: AgentKind, permission: string, context: PolicyContext): Promise<PermissionAction> {
  if (agent === "plan" && !PLAN_MAY.has(permission)) return "deny";
  const { tool, action } = policyTarget(permission);
  const decision = await evaluate(policy, { tool, action, args: {}, context });
  if (decision.effect === "allow") return "allow";
  if (decision.effect === "ask") return "ask";
  // Denied without arguments: when some rule could allow a particular call, kodo judges each call.
  return couldAllow(policy, tool, action) ? "ask" : "deny";
}

/** The session rules for one agent, derived from the run's policy. Object order is rule order (last match wins). */
export async function agentPermissionRules(policy: ResolvedPolicy, agent: AgentKind, context: PolicyContext): Promise<PermissionRule[]> {
  const rules: PermissionRule[] = [{ permission: "*", pattern: "*", action: "deny" }];
  const actions = new Map<string, PermissionAction>();
  for (const permission of KNOWN_PERMISSIONS) {
    const action = await staticAction(policy, agent, permission, context);
    actions.set(permission, action);
    rules.push({ permission, pattern: "*", action });
  }
  for (const tool of ALWAYS_ALLOWED_TOOLS) rules.push({ permission: tool, pattern: "*", action: "allow" });
  // Pattern rules only for permissions that are not denied outright: OpenCode removes a tool from
  // what the model is offered only when the permission's last rule is `"*": deny`.
  const open = (permission: string): boolean => actions.get(permission) !== "deny";
  if (open("read")) rules.push(...SECRET_READ_RULES);
  // bash asked: already judged per call; allowed: still judge these.
  if (open("bash")) for (const pattern of DESTRUCTIVE_BASH_PATTERNS) rules.push({ permission: "bash", pattern, action: "ask" });
  // Whatever the policy says: OpenCode's own file tools run in the server process, outside the
  // per-command sandbox, and /proc/self/environ there holds the server's password.
  for (const permission of ["read", "external_directory", "edit", "glob", "grep", "list"].filter(open)) {
    for (const pattern of SERVER_PRIVATE_PATHS) rules.push({ permission, pattern, action: "deny" });
  }
  return rules;
}

export interface PermissionDecision {
  action: "allow" | "deny" | "ask";
  code: PolicyDecision["code"];
  reason: string;
  matchedRules: string[];
}

/**
 * kodo's answer to one ask: every request it stands for must be allowed; any deny denies (with
 * that decision's code), else any ask goes to a person. The plan agent never gets past looking.
 */
export async function decidePermission(policy: ResolvedPolicy, context: PolicyContext, ask: PermissionAsk): Promise<PermissionDecision> {
  if (ask.agent === "plan" && !PLAN_MAY.has(ask.permission)) {
    return { action: "deny", code: "DENIED_BY_RULE", reason: `the plan agent may not use ${ask.permission} (plan is read-only)`, matchedRules: [] };
  }
  const decisions: PolicyDecision[] = [];
  for (const request of policyRequests(ask, context)) decisions.push(await evaluate(policy, request));
  const matchedRules = [...new Set(decisions.flatMap((decision) => decision.matchedRules))];
  const denied = decisions.find((decision) => decision.effect === "deny");
  if (denied !== undefined) return { action: "deny", code: denied.code, reason: denied.decisionReason, matchedRules };
  const asked = decisions.find((decision) => decision.effect === "ask");
  if (asked !== undefined) return { action: "ask", code: asked.code, reason: asked.decisionReason, matchedRules };
  const first = decisions[0];
  if (first === undefined) return { action: "deny", code: "ARG_REQUIRED", reason: "the ask names nothing to decide on (fail closed)", matchedRules };
  return { action: "allow", code: "ALLOWED", reason: first.decisionReason, matchedRules };
}
