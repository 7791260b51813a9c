/**
 * kodo's answer to OpenCode's permission asks: the run's policy (task → repository → defaults),
 * evaluated with the run's context (its worktree, the write allowlist, the test roots). The
 * permission bridge calls this for every ask; only a policy `ask` reaches a person.
 */
import type { Pool } from "pg";
import { decidePermission, type AgentKind, type PermissionDecision } from "../agent/policy-permissions.js";
import { findRun } from "../store/runs.js";
import { findTask } from "../store/tasks.js";
import { runPolicy } from "./run-policy.js";

export interface AskForDecision {
  runId: string;
  agent: AgentKind;
  permission: string;
  patterns: readonly string[];
  metadata?: Readonly<Record<string, unknown>>;
  directory: string;
}

/**
 * `askPermissions` (KODO_ASK_PERMISSIONS): for these permissions a person decides whatever the
 * policy allows (a deny stays a deny).
 */
export function createPolicyDecider(pool: Pool, options: { askPermissions?: readonly string[] } = {}): (ask: AskForDecision) => Promise<PermissionDecision> {
  const askPerson = new Set(options.askPermissions ?? []);
  const decide = policyDecision(pool);
  return async (ask) => {
    const decision = await decide(ask);
    if (decision.action !== "allow" || !askPerson.has(ask.permission)) return decision;
    return { ...decision, action: "ask", code: "ASK_REQUIRED", reason: `KODO_ASK_PERMISSIONS: a person decides every ${ask.permission} call (the policy would allow it: ${decision.reason})` };
  };
}

function policyDecision(pool: Pool): (ask: AskForDecision) => Promise<PermissionDecision> {
  return async (ask) => {
    const run = await findRun(pool, ask.runId);
    const task = run === undefined ? undefined : await findTask(pool, run.task_id);
    if (run === undefined || task === undefined || run.worktree_path === null) {
      return { action: "deny", code: "WORKTREE_REQUIRED", reason: `run ${ask.runId} has no worktree: nothing may be done for it`, matchedRules: [] };
    }
    try {
      const { policy, context } = await runPolicy(pool, task, run.worktree_path);
      return await decidePermission(policy, context, { ...ask, directory: run.worktree_path });
    } catch (error) {
      // fail closed: a policy that cannot be read allows nothing
      return { action: "deny", code: "POLICY_INVALID", reason: `the run's policy could not be evaluated: ${error instanceof Error ? error.message : String(error)}`, matchedRules: [] };
    }
  };
}
