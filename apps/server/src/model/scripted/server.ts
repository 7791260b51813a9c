/**
 * The scripted model server: an OpenAI-compatible chat-completions endpoint that answers from a
 * script, so demos, tests and CI run OpenCode with no network and no model. node:http only.
 *
 *   POST /v1/chat/completions   stream true → SSE chunks then `data: [DONE]`; false → JSON
 *   GET  /v1/models             the one model it serves
 *   GET  /_kodo/stats           what it was asked (see stats.ts)
 *   POST /_kodo/reset           forget the stats
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { chatRequestSchema, type ChatRequest } from "./chat-request.js";
import { completionBody, completionChunks, renderReply, type CompletionMeta } from "./completion.js";
import { BodyTooLargeError, openAiError, readBody, sendJson, sleep } from "./http-util.js";
import { matchRule, requestFacts, type RequestFacts } from "./match.js";
import { DEFAULT_RULE_NAME, type Script, type ScriptReply } from "./script.js";
import { createStatsRecorder, type ScriptStats, type StatsRecorder } from "./stats.js";

export interface ScriptedModelServerOptions {
  script: Script;
  /** 0 (the default) picks a free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** model id reported by /v1/models and in answers when the request names none; default "scripted-1" */
  model?: string;
  /** a `hang` reply gives up (closes the connection) after this long; default 1 hour */
  maxHangMs?: number;
}

export interface ScriptedModelServer {
  /** base URL ending in /v1, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  port: number;
  stats(): ScriptStats;
  /** ends open connections (hanging ones too) and resolves within a bounded time */
  close(): Promise<void>;
}

export const DEFAULT_MODEL_ID = "scripted-1";
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const DEFAULT_MAX_HANG_MS = 60 * 60_000;
const CLOSE_DEADLINE_MS = 2_000;
const REQUEST_TIMEOUT_MS = 60_000;

interface Context {
  script: Script;
  model: string;
  maxHangMs: number;
  stats: StatsRecorder;
  /** aborted by close(): ends every delay and hang */
  shutdown: AbortSignal;
  /** never reset, so tool-call ids stay unique for the life of the server */
  sequence: { next: number };
}

export async function startScriptedModelServer(options: ScriptedModelServerOptions): Promise<ScriptedModelServer> {
  const host = options.host ?? "127.0.0.1";
  const shutdown = new AbortController();
  const ruleNames = options.script.rules.map((rule) => rule.name);
  const context: Context = {
    script: options.script,
    model: options.model ?? DEFAULT_MODEL_ID,
    maxHangMs: options.maxHangMs ?? DEFAULT_MAX_HANG_MS,
    stats: createStatsRecorder(options.script.default === undefined ? ruleNames : [...ruleNames, DEFAULT_RULE_NAME]),
    shutdown: shutdown.signal,
    sequence: { next: 0 },
  };

  const server = http.createServer((request, response) => {
    response.on("error", () => undefined); // a client that went away is not our error
    route(context, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, openAiError(500, `scripted model: ${String(error)}`));
      else response.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    stats: () => context.stats.snapshot(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        const timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function route(context: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
  const method = request.method ?? "GET";
  if (method === "POST" && (path === "/v1/chat/completions" || path === "/chat/completions")) {
    await chatCompletions(context, request, response);
  } else if (method === "GET" && (path === "/v1/models" || path === "/models")) {
    sendJson(response, 200, { object: "list", data: [{ id: context.model, object: "model", created: 0, owned_by: "kodo" }] });
  } else if (method === "GET" && path === "/_kodo/stats") {
    sendJson(response, 200, context.stats.snapshot());
  } else if (method === "POST" && path === "/_kodo/reset") {
    context.stats.reset();
    sendJson(response, 200, { ok: true });
  } else {
    sendJson(response, 404, openAiError(404, `scripted model: no route ${method} ${path || "/"}`, "not_found"));
  }
}

async function chatCompletions(context: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const n = context.stats.begin();
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request, MAX_BODY_BYTES));
  } catch (error) {
    context.stats.invalid(n);
    const tooLarge = error instanceof BodyTooLargeError;
    sendJson(response, tooLarge ? 413 : 400, openAiError(tooLarge ? 413 : 400, `scripted model: ${String(error)}`, "invalid_body"));
    return;
  }
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) {
    context.stats.invalid(n);
    const first = parsed.error.issues[0];
    const where = first === undefined ? "" : `${first.path.join(".") || "(root)"}: ${first.message}`;
    sendJson(response, 400, openAiError(400, `scripted model: not a chat-completions request (${where})`, "invalid_request"));
    return;
  }
  const chat = parsed.data;
  const facts = requestFacts(chat);
  const match = matchRule(context.script, facts);
  if (match === undefined) {
    context.stats.unmatched(n, facts);
    const message = `scripted model: no rule matched request #${n} (last user message: ${JSON.stringify(facts.lastUser.slice(0, 200))}, tool results after it: ${facts.toolResults})`;
    sendJson(response, 400, openAiError(400, message, "no_rule_matched"));
    return;
  }
  context.stats.matched(n, match.rule, facts);

  // One signal for "stop waiting": the client went away or the server is closing.
  const stop = new AbortController();
  const onShutdown = (): void => stop.abort();
  context.shutdown.addEventListener("abort", onShutdown, { once: true });
  response.on("close", () => {
    context.shutdown.removeEventListener("abort", onShutdown);
    stop.abort();
  });
  if (context.shutdown.aborted) stop.abort();
  await answer(context, match.reply, { chat, facts, stop: stop.signal }, response);
}

async function answer(
  context: Context,
  reply: ScriptReply,
  turn: { chat: ChatRequest; facts: RequestFacts; stop: AbortSignal },
  response: ServerResponse,
): Promise<void> {
  if (reply.delayMs !== undefined && reply.delayMs > 0 && !(await sleep(reply.delayMs, turn.stop))) {
    response.destroy();
    return;
  }
  if (reply.hang === true) {
    await sleep(context.maxHangMs, turn.stop);
    response.destroy();
    return;
  }
  if (reply.error !== undefined) {
    sendJson(response, reply.error.status, openAiError(reply.error.status, reply.error.message, "scripted_error"));
    return;
  }
  const sequence = ++context.sequence.next;
  const rendered = renderReply(reply, turn.chat, turn.facts, sequence);
  const meta: CompletionMeta = {
    id: `chatcmpl-scripted-${sequence}`,
    model: turn.chat.model ?? context.model,
    created: Math.floor(Date.now() / 1000),
  };
  if (turn.chat.stream !== true) {
    sendJson(response, 200, completionBody(rendered, meta));
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const frame of completionChunks(rendered, meta)) {
    if (response.destroyed) return;
    response.write(`data: ${JSON.stringify(frame)}\n\n`);
  }
  response.end("data: [DONE]\n\n");
}
