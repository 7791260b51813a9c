/**
 * Hooks for the browser tests, present only when a browser is automated (`navigator.webdriver`):
 * cut the event stream as a network failure would, and read which events the page applied.
 */
import type { Kodo } from "./state/kodo.js";

export interface StudioTestHooks {
  dropEventStream(): void;
  /** connections opened so far (1 before any reconnect) */
  connections(): number;
  /** ids of the events delivered to the page, in order */
  eventIds(): number[];
  /** no task refresh scheduled or under way: what the board shows came from the stream */
  boardSettled(): boolean;
  /** set at load: a reload would lose it */
  loadedAt: number;
}

declare global {
  interface Window {
    __kodoStudio?: StudioTestHooks;
  }
}

export function installTestHooks(kodo: Kodo): () => void {
  if (!navigator.webdriver) return () => undefined;
  window.__kodoStudio = {
    dropEventStream: () => kodo.live.drop(),
    connections: () => kodo.live.connections,
    eventIds: () => [...kodo.live.delivered],
    boardSettled: () => kodo.board.settled,
    loadedAt: performance.timeOrigin,
  };
  return () => {
    delete window.__kodoStudio;
  };
}
