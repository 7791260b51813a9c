/**
 * One subscription per OpenCode server to `GET /global/event` (every directory's events).
 * Reconnects with backoff when the stream drops or goes quiet (OpenCode sends a heartbeat every
 * 10 s), follows the server to a new URL after a restart, and tells listeners `reconnected` so
 * they can reconcile from messages(): the stream has no event ids and cannot be resumed.
 */
import { NO_TIMEOUT, TIMEOUT_HEADER } from "./http.js";
import { normalizeEvent, type AgentEvent, type AgentEventListener } from "./event-types.js";
import { SseParser } from "./sse.js";

export interface EventEndpoint {
  url: string;
  fetch: typeof fetch;
}

export interface EventStreamOptions {
  /** where the server is now; undefined while it is down (the stream then waits) */
  endpoint: () => EventEndpoint | undefined;
  /** no bytes for this long → the connection is considered dead (default 30 s: 3 heartbeats) */
  idleTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** errors of listeners and of the stream itself; default: ignored */
  onError?: (error: unknown) => void;
}

export interface AgentEventStream {
  subscribe(listener: AgentEventListener): () => void;
  readonly connected: boolean;
  /** resolves once connected; false after `timeoutMs` without a connection */
  waitConnected(timeoutMs: number): Promise<boolean>;
  /** drop the current connection (if any) and connect again now, e.g. after a server restart */
  reconnectNow(): void;
  stop(): Promise<void>;
}

export function createEventStream(options: EventStreamOptions): AgentEventStream {
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const listeners = new Set<AgentEventListener>();
  const connectWaiters = new Set<(connected: boolean) => void>();
  let stopped = false;
  let connected = false;
  let everConnected = false;
  let connection: AbortController | undefined;
  let wakeUp: (() => void) | undefined;

  const emit = (event: AgentEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        options.onError?.(error);
      }
    }
  };

  /** A sleep that stop() and reconnectNow() cut short; its timer never holds the process. */
  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const readStream = async (endpoint: EventEndpoint, controller: AbortController): Promise<void> => {
    // the watchdog covers the headers too: a server that accepts and never answers is dead as well
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error("event stream idle")), idleTimeoutMs);
      idle.unref();
    };
    armIdle();
    try {
      const response = await endpoint.fetch(`${endpoint.url}/global/event`, {
        headers: { accept: "text/event-stream", [TIMEOUT_HEADER]: NO_TIMEOUT },
        signal: controller.signal,
      });
      if (!response.ok || response.body === null) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`GET /global/event answered ${response.status}`);
      }
      connected = true;
      if (everConnected) emit({ type: "reconnected" });
      everConnected = true;
      for (const resolve of [...connectWaiters]) resolve(true);

      const parser = new SseParser();
      const decoder = new TextDecoder();
      armIdle();
      for await (const chunk of response.body) {
        armIdle();
        for (const data of parser.push(decoder.decode(chunk, { stream: true }))) {
          let frame: unknown;
          try {
            frame = JSON.parse(data);
          } catch {
            continue;
          }
          const event = normalizeEvent(frame);
          if (event !== undefined) emit(event);
        }
      }
    } finally {
      if (idle !== undefined) clearTimeout(idle);
    }
  };

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopped) {
      const endpoint = options.endpoint();
      if (endpoint !== undefined) {
        const controller = new AbortController();
        connection = controller;
        try {
          await readStream(endpoint, controller);
        } catch (error) {
          if (!stopped && !controller.signal.aborted) options.onError?.(error);
        } finally {
          if (connected) attempt = 0; // it was up: the next try starts the backoff afresh
          connected = false;
          connection = undefined;
          controller.abort();
        }
      }
      if (stopped) break;
      const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(attempt, 10));
      attempt += 1;
      await pause(delay);
    }
  };

  const loop = run();

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get connected() {
      return connected;
    },
    waitConnected(timeoutMs) {
      if (connected) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const finish = (value: boolean): void => {
          clearTimeout(timer);
          connectWaiters.delete(finish);
          resolve(value);
        };
        // ref'd: someone awaits it; cleared as soon as it settles
        const timer = setTimeout(() => finish(false), timeoutMs);
        connectWaiters.add(finish);
      });
    },
    reconnectNow() {
      connection?.abort(new Error("reconnect requested"));
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      connection?.abort(new Error("event stream stopped"));
      wakeUp?.();
      for (const resolve of [...connectWaiters]) resolve(false);
      listeners.clear();
      await loop;
    },
  };
}
