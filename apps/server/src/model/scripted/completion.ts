/**
 * Turns a scripted reply into OpenAI chat-completions wire objects: one `chat.completion`
 * (stream: false) or a list of `chat.completion.chunk` frames (stream: true). Pure.
 */
import type { ChatRequest } from "./chat-request.js";
import type { RequestFacts } from "./match.js";
import type { ScriptReply } from "./script.js";
import { renderTemplate, renderTemplateDeep, type TemplateValues } from "./template.js";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface RenderedToolCall {
  id: string;
  name: string;
  /** JSON string, as the wire carries it */
  arguments: string;
}

/** A reply with templates rendered and usage settled, ready to be put on the wire. */
export interface RenderedReply {
  text: string | undefined;
  toolCalls: RenderedToolCall[];
  finishReason: "stop" | "tool_calls";
  usage: Usage;
}

export interface CompletionMeta {
  id: string;
  model: string;
  /** unix seconds */
  created: number;
}

/** Text chunks are cut to this many characters, so clients see a real stream of deltas. */
const CHUNK_CHARS = 64;

function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export function templateValues(facts: RequestFacts): TemplateValues {
  return { directory: facts.directory ?? "." };
}

/**
 * Renders templates and settles usage. Default usage is ceil(chars / 4) of the request messages
 * (as JSON) and of the answer: deterministic for a given request.
 */
export function renderReply(reply: ScriptReply, request: ChatRequest, facts: RequestFacts, requestNumber: number): RenderedReply {
  const values = templateValues(facts);
  const text = reply.text === undefined ? undefined : renderTemplate(reply.text, values);
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    id: `call_${requestNumber}_${index}`,
    name: call.name,
    arguments: JSON.stringify(renderTemplateDeep(call.arguments, values)),
  }));
  const answerChars = (text ?? "").length + toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  const promptTokens = reply.usage?.prompt_tokens ?? estimateTokens(JSON.stringify(request.messages).length);
  const completionTokens = reply.usage?.completion_tokens ?? estimateTokens(answerChars);
  return {
    text,
    toolCalls,
    finishReason: toolCalls.length > 0 ? "tool_calls" : "stop",
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

function wireToolCalls(calls: RenderedToolCall[]): object[] {
  return calls.map((call, index) => ({ index, id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }));
}

/** The body of a non-streaming answer. */
export function completionBody(reply: RenderedReply, meta: CompletionMeta): object {
  const message = {
    role: "assistant",
    content: reply.text ?? null,
    ...(reply.toolCalls.length > 0 ? { tool_calls: wireToolCalls(reply.toolCalls) } : {}),
  };
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: reply.finishReason }],
    usage: reply.usage,
  };
}

function splitText(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += CHUNK_CHARS) pieces.push(text.slice(start, start + CHUNK_CHARS));
  return pieces;
}

/** The `data:` objects of a streaming answer, in order (the `[DONE]` sentinel is not included). */
export function completionChunks(reply: RenderedReply, meta: CompletionMeta): object[] {
  const chunk = (delta: object, finishReason: string | null, extra: object = {}): object => ({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
    ...extra,
  });
  // No empty content delta: AI SDK clients would turn it into an empty text part.
  const deltas: object[] = [
    ...splitText(reply.text ?? "").map((piece) => ({ content: piece })),
    ...wireToolCalls(reply.toolCalls).map((call) => ({ tool_calls: [call] })),
  ];
  const frames = deltas.map((delta, index) => chunk(index === 0 ? { role: "assistant", ...delta } : delta, null));
  frames.push(chunk(deltas.length === 0 ? { role: "assistant" } : {}, reply.finishReason, { usage: reply.usage }));
  return frames;
}
