/** What every page needs: the API client, the event stream, the shared models and who you are. */
import { createContext, useContext, useEffect, useState } from "react";
import type { Identity } from "../api/actor.js";
import type { KodoApi } from "../api/client.js";
import type { LiveEvents } from "../api/live-events.js";
import type { ApprovalsModel } from "./approvals.js";
import type { BoardModel } from "./board.js";

export interface Kodo {
  api: KodoApi;
  live: LiveEvents;
  board: BoardModel;
  approvals: ApprovalsModel;
  identity: Identity;
}

export const KodoContext = createContext<Kodo | null>(null);

export function useKodo(): Kodo {
  const kodo = useContext(KodoContext);
  if (kodo === null) throw new Error("useKodo outside <KodoContext>");
  return kodo;
}

/** The current time, updated every `intervalMs` (countdowns, "5 s ago"). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
