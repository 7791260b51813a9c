/**
 * The part of an OpenAI chat-completions request the scripted model reads. Loose on purpose:
 * unknown fields pass, so any OpenAI-compatible client (OpenCode, the AI SDK, curl) is accepted.
 */
import { z } from "zod";

const contentPartSchema = z.looseObject({ type: z.string(), text: z.string().optional() });

const messageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPartSchema)]).nullish(),
  tool_call_id: z.string().optional(),
});

const toolSchema = z.looseObject({
  type: z.string().optional(),
  function: z.looseObject({ name: z.string() }),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().optional(),
  messages: z.array(messageSchema).min(1),
  tools: z.array(toolSchema).nullish(),
  stream: z.boolean().nullish(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type ChatMessage = ChatRequest["messages"][number];

/** The text of a message: a string content as is, text parts joined by newlines. */
export function messageText(message: ChatMessage): string {
  const { content } = message;
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  return content.flatMap((part) => (part.type === "text" && part.text !== undefined ? [part.text] : [])).join("\n");
}
