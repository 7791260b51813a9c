import type { PromptPort } from "../../model/ledger.js";

export interface PermissionRule {
  permission: string;
  pattern: string;
  action: "allow" | "deny" | "ask";
}

/** What the steps need from the agent runtime (OpenCode): sessions, prompts, reads, aborts. */
export interface AgentPort extends PromptPort {
  createSession(o: { directory: string; title: string; permission: PermissionRule[] }): Promise<{ sessionId: string }>;
  abort(o: { sessionId: string; directory: string }): Promise<void>;
}
