/**
 * The pure matcher: which rule of a script answers a chat request. No I/O, no clock.
 */
import { messageText, type ChatRequest } from "./chat-request.js";
import type { Script, ScriptReply, ScriptWhen } from "./script.js";
import { DEFAULT_RULE_NAME } from "./script.js";

/** OpenCode's session-title request has a system prompt containing this. */
export const TITLE_REQUEST_MARKER = "title generator";

/** OpenCode 1.18 tells the model its directory as a line `Working directory: /abs/path` in the system prompt. */
const WORKING_DIRECTORY = /^[ \t]*Working directory:[ \t]*(\S.*?)[ \t]*$/m;

/** What the matcher looks at, extracted once from a request. */
export interface RequestFacts {
  /** all system (and developer) messages, joined by newlines */
  system: string;
  /** text of each user message, in order */
  userTexts: string[];
  /** text of the last user message ("" when there is none) */
  lastUser: string;
  /** number of `role: "tool"` messages after the last user message */
  toolResults: number;
  /** text of the last `role: "tool"` message, if any */
  lastToolResult: string | undefined;
  /** names of the tools the request offers */
  tools: string[];
  /** the working directory OpenCode reports in its system prompt, if any */
  directory: string | undefined;
  titleRequest: boolean;
}

export function requestFacts(request: ChatRequest): RequestFacts {
  const { messages } = request;
  const system = messages
    .filter((message) => message.role === "system" || message.role === "developer")
    .map(messageText)
    .join("\n");
  const userTexts = messages.filter((message) => message.role === "user").map(messageText);
  const lastUserIndex = messages.findLastIndex((message) => message.role === "user");
  const toolResults = messages.slice(lastUserIndex + 1).filter((message) => message.role === "tool").length;
  const lastTool = messages.findLast((message) => message.role === "tool");
  return {
    system,
    userTexts,
    lastUser: userTexts.at(-1) ?? "",
    toolResults,
    lastToolResult: lastTool === undefined ? undefined : messageText(lastTool),
    tools: (request.tools ?? []).map((tool) => tool.function.name),
    directory: WORKING_DIRECTORY.exec(system)?.[1],
    titleRequest: system.includes(TITLE_REQUEST_MARKER),
  };
}

/** True when every condition given in `when` holds for the request. */
export function conditionsHold(when: ScriptWhen, facts: RequestFacts): boolean {
  if (when.tool !== undefined && !facts.tools.includes(when.tool)) return false;
  if (when.system !== undefined && !facts.system.includes(when.system)) return false;
  if (when.user !== undefined && !facts.lastUser.includes(when.user)) return false;
  const anyUser = when.anyUser;
  if (anyUser !== undefined && !facts.userTexts.some((text) => text.includes(anyUser))) return false;
  if (when.toolResults !== undefined && facts.toolResults !== when.toolResults) return false;
  const lastToolResult = when.lastToolResult;
  if (lastToolResult !== undefined && !(facts.lastToolResult ?? "").includes(lastToolResult)) return false;
  if (when.titleRequest !== undefined && facts.titleRequest !== when.titleRequest) return false;
  return true;
}

export interface RuleMatch {
  /** the rule's name, or "default" for the script's default reply */
  rule: string;
  reply: ScriptReply;
}

/** The first rule whose conditions hold, else the default reply, else undefined. */
export function matchRule(script: Script, facts: RequestFacts): RuleMatch | undefined {
  const rule = script.rules.find((candidate) => conditionsHold(candidate.when, facts));
  if (rule !== undefined) return { rule: rule.name, reply: rule.reply };
  if (script.default !== undefined) return { rule: DEFAULT_RULE_NAME, reply: script.default };
  return undefined;
}
