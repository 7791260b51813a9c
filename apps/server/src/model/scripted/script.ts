/**
 * The script of the scripted model: an ordered list of rules, each a condition on the chat
 * request (`when`) and the answer to give (`reply`). The format is documented in
 * docs/scripted-model.md; this schema is its single source of truth.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { KodoError, describeError } from "../../lib/errors.js";
import { stringsIn, unknownTemplateVariables } from "./template.js";

/** The rule name under which replies from `default` are counted; no rule may use it. */
export const DEFAULT_RULE_NAME = "default";

/** Longest `delayMs` a script may ask for (10 minutes): every wait has a deadline. */
export const MAX_DELAY_MS = 600_000;

/** Unknown `{{variables}}` in the strings of `value`, each with its path (prefixed by `base`). */
function templateIssues(value: unknown, base: (string | number)[]): { path: (string | number)[]; message: string }[] {
  return stringsIn(value).flatMap(({ path, text }) =>
    unknownTemplateVariables(text).map((name) => ({ path: [...base, ...path], message: `unknown template variable {{${name}}}` })),
  );
}

const nonEmpty = z.string().min(1, "must not be empty");

export const toolCallSchema = z.strictObject({
  name: nonEmpty,
  /** sent to the model client as a JSON string; template variables are rendered in its strings */
  arguments: z.record(z.string(), z.unknown()).default({}),
});

export const usageSchema = z.strictObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
});

export const httpErrorSchema = z.strictObject({
  status: z.number().int().min(400).max(599),
  message: nonEmpty,
});

export const replySchema = z
  .strictObject({
    text: z.string().optional(),
    toolCalls: z.array(toolCallSchema).min(1, "must hold at least one tool call").optional(),
    usage: usageSchema.optional(),
    delayMs: z.number().int().min(0).max(MAX_DELAY_MS).optional(),
    hang: z.literal(true).optional(),
    error: httpErrorSchema.optional(),
  })
  .superRefine((reply, context) => {
    const answers = [reply.text !== undefined || reply.toolCalls !== undefined, reply.hang === true, reply.error !== undefined];
    const kinds = answers.filter(Boolean).length;
    if (kinds === 0) {
      context.addIssue({ code: "custom", path: [], message: "needs one of text, toolCalls, error or hang" });
    } else if (kinds > 1) {
      context.addIssue({ code: "custom", path: [], message: "text/toolCalls, error and hang exclude each other" });
    }
    const templated = [
      ...templateIssues(reply.text, ["text"]),
      ...(reply.toolCalls ?? []).flatMap((call, index) => templateIssues(call.arguments, ["toolCalls", index, "arguments"])),
    ];
    for (const issue of templated) context.addIssue({ code: "custom", ...issue });
  });

export const whenSchema = z.strictObject({
  /** the request offers a tool with this name */
  tool: nonEmpty.optional(),
  /** substring of the system prompt(s) */
  system: nonEmpty.optional(),
  /** substring of the text of the last user message */
  user: nonEmpty.optional(),
  /** substring of the text of any user message */
  anyUser: nonEmpty.optional(),
  /** exact number of `role: "tool"` messages after the last user message */
  toolResults: z.number().int().nonnegative().optional(),
  /** substring of the last `role: "tool"` message */
  lastToolResult: nonEmpty.optional(),
  /** true: only OpenCode's session-title request; false: never it */
  titleRequest: z.boolean().optional(),
});

export const ruleSchema = z.strictObject({
  name: nonEmpty.refine((name) => name !== DEFAULT_RULE_NAME, `"${DEFAULT_RULE_NAME}" is reserved for the default reply`),
  when: whenSchema.default({}),
  reply: replySchema,
});

export const scriptSchema = z
  .strictObject({
    version: z.literal(1),
    rules: z.array(ruleSchema),
    default: replySchema.optional(),
  })
  .superRefine((script, context) => {
    const seen = new Set<string>();
    script.rules.forEach((rule, index) => {
      if (seen.has(rule.name)) context.addIssue({ code: "custom", path: ["rules", index, "name"], message: `duplicate rule name "${rule.name}"` });
      seen.add(rule.name);
    });
  });

export type Script = z.infer<typeof scriptSchema>;
export type ScriptRule = z.infer<typeof ruleSchema>;
export type ScriptWhen = z.infer<typeof whenSchema>;
export type ScriptReply = z.infer<typeof replySchema>;
export type ScriptToolCall = z.infer<typeof toolCallSchema>;

/** `rules[2].reply.toolCalls[0].name` */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(root)" : out;
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.message.endsWith("received undefined")) return "Required";
  return issue.message;
}

/** Validates a parsed script; throws KodoError SCRIPT_INVALID naming the field path of each problem. */
export function parseScript(json: unknown): Script {
  const result = scriptSchema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issueMessage(issue) }));
  const message = issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  throw new KodoError("SCRIPT_INVALID", message, { details: { issues } });
}

/** Reads and validates a script file (JSON). */
export function loadScript(file: string): Script {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (error) {
    throw new KodoError("SCRIPT_INVALID", `cannot read script ${file}: ${describeError(error)}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new KodoError("SCRIPT_INVALID", `${file}: not valid JSON: ${describeError(error)}`, { cause: error });
  }
  try {
    return parseScript(json);
  } catch (error) {
    if (error instanceof KodoError) {
      throw new KodoError("SCRIPT_INVALID", `${file}: ${error.message}`, { ...(error.details ? { details: error.details } : {}), cause: error });
    }
    throw error;
  }
}
