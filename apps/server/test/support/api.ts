import { StoredEvent } from "@kodo/contracts";

const tokens = new Map<string, string>();

/** Requests to `base` carry this API token from now on (startKodoProcess registers each server's). */
export function registerToken(base: string, token: string): void {
  tokens.set(base, token);
}

function authHeader(base: string): Record<string, string> {
  const token = tokens.get(base);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export async function request(base: string, method: string, route: string, body?: unknown, raw?: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...authHeader(base), ...(body === undefined && raw === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(raw !== undefined ? { body: raw } : body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

export async function ok<T>(base: string, method: string, route: string, body?: unknown): Promise<T> {
  const response = await request(base, method, route, body);
  if (response.status >= 300) throw new Error(`${method} ${route} → ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as T;
}

/** Polls until `check` returns a value, with a deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000, intervalMs = 200): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A minimal SSE reader for tests: collects parsed events; `close()` ends it. */
export function collectEvents(url: string, headers: Record<string, string> = {}): { events: StoredEvent[]; ids: string[]; close: () => void; done: Promise<void> } {
  const controller = new AbortController();
  const events: StoredEvent[] = [];
  const ids: string[] = [];
  const done = (async () => {
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...authHeader(new URL(url).origin), ...headers }, signal: controller.signal });
    if (response.body === null) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let index: number;
      while ((index = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        let id: string | undefined;
        let data = "";
        for (const line of frame.split("\n")) {
          if (line.startsWith("id:")) id = line.slice(3).trim();
          if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        if (id === undefined || data === "") continue;
        ids.push(id);
        events.push(StoredEvent.parse(JSON.parse(data)));
      }
    }
  })().catch(() => undefined);
  return { events, ids, close: () => controller.abort(), done };
}
