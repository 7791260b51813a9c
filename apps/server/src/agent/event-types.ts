/**
 * Normalized events of an OpenCode server, as kodo's agent code sees them. The raw stream
 * (`GET /global/event`) is parsed with small zod schemas; anything unknown passes as `other`.
 */
import { z } from "zod";

export interface AgentError {
  name: string;
  message: string;
}

export interface EventTokens {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export type AgentEvent =
  | { type: "session.status"; directory: string | undefined; sessionId: string; status: "idle" | "busy" | "retry"; message: string | undefined }
  | {
      type: "message.updated";
      directory: string | undefined;
      sessionId: string;
      messageId: string;
      role: "user" | "assistant";
      parentId: string | undefined;
      completed: boolean;
      finish: string | undefined;
      error: AgentError | undefined;
      /** the assistant message's tokens so far (OpenCode updates them after each model step) */
      tokens: EventTokens | undefined;
    }
  | {
      type: "part.updated";
      directory: string | undefined;
      sessionId: string;
      messageId: string;
      partId: string;
      partType: string;
      text: string | undefined;
      tool: string | undefined;
      state: string | undefined;
    }
  | {
      type: "permission.asked";
      directory: string | undefined;
      sessionId: string;
      id: string;
      permission: string;
      patterns: string[];
      /** e.g. `{command}` for bash, `{filepath}` for edit */
      metadata: Record<string, unknown>;
    }
  | { type: "question.asked"; directory: string | undefined; sessionId: string; id: string; questions: AgentQuestion[] }
  | { type: "session.idle"; directory: string | undefined; sessionId: string }
  | { type: "session.error"; directory: string | undefined; sessionId: string | undefined; error: AgentError | undefined }
  /** streaming deltas and other fine-grained activity of a session: counts as progress, carries nothing */
  | { type: "progress"; sessionId: string }
  /** the stream was re-established (after a drop or a server restart): reconcile from messages() */
  | { type: "reconnected" }
  /** any other event, with OpenCode's type */
  | { type: "other"; rawType: string; directory: string | undefined; sessionId: string | undefined };

/** One question of OpenCode's `question` tool (`question.asked`). */
export interface AgentQuestion {
  question: string;
  header: string;
  options: { label: string; description: string }[];
  multiple?: boolean;
  custom?: boolean;
}

export type AgentEventListener = (event: AgentEvent) => void;

/** The session an event belongs to, if any. */
export function eventSessionId(event: AgentEvent): string | undefined {
  return "sessionId" in event ? event.sessionId : undefined;
}

const errorSchema = z.looseObject({ name: z.string(), data: z.looseObject({ message: z.string().optional() }).optional() });

export function normalizeError(raw: unknown): AgentError | undefined {
  const parsed = errorSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  return { name: parsed.data.name, message: parsed.data.data?.message ?? parsed.data.name };
}

const envelopeSchema = z.looseObject({
  directory: z.string().optional(),
  payload: z.looseObject({ type: z.string(), properties: z.unknown().optional() }),
});

const sessionScoped = z.looseObject({ sessionID: z.string() });

const statusProps = z.looseObject({
  sessionID: z.string(),
  status: z.looseObject({ type: z.enum(["idle", "busy", "retry"]), message: z.string().optional() }),
});

const messageProps = z.looseObject({
  sessionID: z.string(),
  info: z.looseObject({
    id: z.string(),
    role: z.enum(["user", "assistant"]),
    parentID: z.string().optional(),
    time: z.looseObject({ completed: z.number().optional() }).optional(),
    finish: z.string().optional(),
    error: z.unknown().optional(),
    tokens: z
      .looseObject({
        input: z.number(),
        output: z.number(),
        reasoning: z.number().optional(),
        cache: z.looseObject({ read: z.number(), write: z.number() }).optional(),
      })
      .optional(),
  }),
});

const partProps = z.looseObject({
  sessionID: z.string(),
  part: z.looseObject({
    id: z.string(),
    messageID: z.string(),
    type: z.string(),
    text: z.string().optional(),
    tool: z.string().optional(),
    state: z.looseObject({ status: z.string() }).optional(),
  }),
});

const permissionProps = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  permission: z.string(),
  patterns: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const questionSchema = z.looseObject({
  question: z.string(),
  header: z.string(),
  options: z.array(z.looseObject({ label: z.string(), description: z.string() })),
  multiple: z.boolean().optional(),
  custom: z.boolean().optional(),
});
const questionProps = z.looseObject({ id: z.string(), sessionID: z.string(), questions: z.array(questionSchema).optional() });

function toQuestion(raw: z.infer<typeof questionSchema>): AgentQuestion {
  return {
    question: raw.question,
    header: raw.header,
    options: raw.options.map((option) => ({ label: option.label, description: option.description })),
    ...(raw.multiple === undefined ? {} : { multiple: raw.multiple }),
    ...(raw.custom === undefined ? {} : { custom: raw.custom }),
  };
}
const errorProps = z.looseObject({ sessionID: z.string().optional(), error: z.unknown().optional() });

/** Events that only say the stream is alive or duplicate others; never forwarded. */
const SILENT = new Set(["server.heartbeat", "server.connected", "sync"]);

/**
 * One parsed `data:` frame of `GET /global/event` → the event kodo forwards, or undefined for
 * noise. Never throws: a frame OpenCode changed shape of degrades to `other`.
 */
export function normalizeEvent(frame: unknown): AgentEvent | undefined {
  const envelope = envelopeSchema.safeParse(frame);
  if (!envelope.success) return undefined;
  const { type, properties } = envelope.data.payload;
  const directory = envelope.data.directory;
  if (SILENT.has(type)) return undefined;
  const session = sessionScoped.safeParse(properties);
  const sessionId = session.success ? session.data.sessionID : undefined;

  switch (type) {
    case "session.status": {
      const p = statusProps.safeParse(properties);
      if (p.success) return { type, directory, sessionId: p.data.sessionID, status: p.data.status.type, message: p.data.status.message };
      break;
    }
    case "message.updated": {
      const p = messageProps.safeParse(properties);
      if (p.success) {
        const info = p.data.info;
        return {
          type,
          directory,
          sessionId: p.data.sessionID,
          messageId: info.id,
          role: info.role,
          parentId: info.parentID,
          completed: info.time?.completed !== undefined,
          finish: info.finish,
          error: normalizeError(info.error),
          tokens:
            info.tokens === undefined
              ? undefined
              : {
                  input: info.tokens.input,
                  output: info.tokens.output,
                  reasoning: info.tokens.reasoning ?? 0,
                  cacheRead: info.tokens.cache?.read ?? 0,
                  cacheWrite: info.tokens.cache?.write ?? 0,
                },
        };
      }
      break;
    }
    case "message.part.updated": {
      const p = partProps.safeParse(properties);
      if (p.success) {
        const part = p.data.part;
        return {
          type: "part.updated",
          directory,
          sessionId: p.data.sessionID,
          messageId: part.messageID,
          partId: part.id,
          partType: part.type,
          text: part.text,
          tool: part.tool,
          state: part.state?.status,
        };
      }
      break;
    }
    case "permission.asked": {
      const p = permissionProps.safeParse(properties);
      if (p.success) {
        return { type, directory, sessionId: p.data.sessionID, id: p.data.id, permission: p.data.permission, patterns: p.data.patterns, metadata: p.data.metadata ?? {} };
      }
      break;
    }
    case "question.asked": {
      const p = questionProps.safeParse(properties);
      if (p.success) return { type, directory, sessionId: p.data.sessionID, id: p.data.id, questions: (p.data.questions ?? []).map(toQuestion) };
      break;
    }
    case "session.idle":
      if (sessionId !== undefined) return { type, directory, sessionId };
      break;
    case "session.error": {
      const p = errorProps.safeParse(properties);
      if (p.success) return { type, directory, sessionId: p.data.sessionID, error: normalizeError(p.data.error) };
      break;
    }
    default:
      if (sessionId !== undefined && (type === "message.part.delta" || type.endsWith(".delta"))) return { type: "progress", sessionId };
  }
  return { type: "other", rawType: type, directory, sessionId };
}
