/** OpenCode's `{info, parts}` messages, reduced to what kodo records and reconciles. */
import type { Message, Part } from "@opencode-ai/sdk/v2";
import { normalizeError, type AgentError } from "./event-types.js";

export interface TokenUsage {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface SessionMessage {
  id: string;
  role: "user" | "assistant";
  /** for an assistant message: the user message it answers */
  parentId?: string;
  /** the non-synthetic text parts, joined by newlines */
  text: string;
  structured?: unknown;
  /** user messages are complete when created; assistant messages when OpenCode set time.completed */
  completed: boolean;
  finish?: string;
  error?: AgentError;
  tokens: TokenUsage;
  cost: number;
  modelId?: string;
  providerId?: string;
  agent?: string;
}

export const ZERO_TOKENS: TokenUsage = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };

export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    input: a.input + b.input,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  };
}

export function textOf(parts: readonly Part[]): string {
  return parts
    .flatMap((part) => (part.type === "text" && part.synthetic !== true && part.ignored !== true ? [part.text] : []))
    .join("\n");
}

export function normalizeMessage(message: { info: Message; parts: Part[] }): SessionMessage {
  const { info, parts } = message;
  if (info.role === "user") {
    return {
      id: info.id,
      role: "user",
      text: textOf(parts),
      completed: true,
      tokens: { ...ZERO_TOKENS },
      cost: 0,
      modelId: info.model.modelID,
      providerId: info.model.providerID,
      agent: info.agent,
    };
  }
  const error = normalizeError(info.error);
  return {
    id: info.id,
    role: "assistant",
    parentId: info.parentID,
    text: textOf(parts),
    ...(info.structured === undefined ? {} : { structured: info.structured }),
    completed: info.time.completed !== undefined,
    ...(info.finish === undefined ? {} : { finish: info.finish }),
    ...(error === undefined ? {} : { error }),
    tokens: {
      input: info.tokens.input,
      output: info.tokens.output,
      reasoning: info.tokens.reasoning,
      cacheRead: info.tokens.cache.read,
      cacheWrite: info.tokens.cache.write,
    },
    cost: info.cost,
    modelId: info.modelID,
    providerId: info.providerID,
    agent: info.agent,
  };
}
