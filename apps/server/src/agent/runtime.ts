/**
 * The AgentRuntime port: what kodo's workflow steps may ask of a coding agent. Steps never touch
 * the OpenCode SDK; `createOpenCodeRuntime` is the real implementation over a supervised server.
 */
import type { OpencodeClient } from "@opencode-ai/sdk/v2";
import path from "node:path";
import { askInsteadOfAllow } from "./ask-rules.js";
import type { TurnBudgetCheck } from "./budget-watch.js";
import type { AgentError } from "./event-types.js";
import type { AgentEventStream } from "./events.js";
import type { PermissionRule } from "./permissions.js";
import { runPrompt } from "./prompt-turn.js";
import { unwrap } from "./sdk-call.js";
import { normalizeMessage, type SessionMessage, type TokenUsage } from "./session-messages.js";

export type { SessionMessage, TokenUsage } from "./session-messages.js";
export type { PermissionRule } from "./permissions.js";

export type AgentName = "plan" | "build";

export interface PromptOptions {
  sessionId: string;
  directory: string;
  agent: AgentName;
  text: string;
  format?: { type: "json_schema"; schema: Record<string, unknown> };
  /** no event of the session for this long → abort, AGENT_STALLED */
  stallMs: number;
  /** overall bound of the turn → abort, DEADLINE_EXCEEDED */
  timeoutMs: number;
  /** the run's budget, checked after every model step of the turn → abort, BUDGET_EXCEEDED */
  budget?: TurnBudgetCheck;
}

export interface PromptResult {
  /** the last assistant message of the turn */
  messageId: string;
  userMessageId?: string;
  /** its text parts */
  text: string;
  /** `info.structured` when a json_schema format was asked for (validate it yourself) */
  structured: unknown | undefined;
  finish: string | undefined;
  /** summed over every assistant message of the turn (one per model step) */
  tokens: TokenUsage;
  cost: number;
  modelId: string;
  providerId: string;
  durationMs: number;
  /** never set on a resolved result today: an errored turn rejects with AGENT_FAILED */
  error?: AgentError;
}

export interface AgentRuntime {
  createSession(o: { directory: string; title: string; permission: PermissionRule[] }): Promise<{ sessionId: string }>;
  prompt(o: PromptOptions): Promise<PromptResult>;
  /** every message of the session, for reconciliation after a crash or a stream reconnect */
  messages(o: { sessionId: string; directory: string }): Promise<SessionMessage[]>;
  abort(o: { sessionId: string; directory: string }): Promise<void>;
}

/** The part of the supervised server the runtime needs (tests may pass a fake). */
export interface RuntimeServer {
  client(): OpencodeClient;
  readonly events: AgentEventStream;
  noteDirectory(directory: string): void;
}

export type OpenCodeRuntime = AgentRuntime;

export interface OpenCodeRuntimeOptions {
  /**
   * True while a person is being asked about one of the session's tool calls (the permission
   * bridge's `hasPending`): a turn waiting for that answer is not stalled.
   */
  waitingForHuman?: (sessionId: string) => boolean;
  /** permissions a person is asked for: sessions get `ask` where their rules say `allow` */
  askPermissions?: readonly string[];
}

/**
 * Asks (`permission.asked`, `question.asked`) are not answered here: the permission bridge
 * (permission-bridge.ts) answers every one of them, by policy or through a person with a deadline.
 */
export function createOpenCodeRuntime(server: RuntimeServer, options: OpenCodeRuntimeOptions = {}): OpenCodeRuntime {
  const askPermissions = options.askPermissions ?? [];
  return {
    async createSession({ directory, title, permission }) {
      const dir = path.resolve(directory);
      server.noteDirectory(dir);
      const rules = askInsteadOfAllow(permission, askPermissions);
      const session = await unwrap("POST /session", server.client().session.create({ directory: dir, title, permission: rules }));
      return { sessionId: session.id };
    },

    prompt(o) {
      const directory = path.resolve(o.directory);
      server.noteDirectory(directory);
      return runPrompt(server, { ...o, directory }, options.waitingForHuman);
    },

    async messages({ sessionId, directory }) {
      const list = await unwrap(
        `GET /session/${sessionId}/message`,
        server.client().session.messages({ sessionID: sessionId, directory: path.resolve(directory) }),
      );
      return list.map(normalizeMessage);
    },

    async abort({ sessionId, directory }) {
      await unwrap(`POST /session/${sessionId}/abort`, server.client().session.abort({ sessionID: sessionId, directory: path.resolve(directory) }));
    },
  };
}
