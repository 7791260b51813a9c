/**
 * One run as the task page shows it: the run (history, plan, attempts, ledger, artifacts), its agent
 * sessions and what they did, kept current by the run's events. Like the board, it loads after the
 * stream is open and applies the events that arrived meanwhile afterwards. Under a plan quorum it
 * also keeps the votes: from this page's own vote, and read again when someone else votes.
 */
import type { ActivityItem, PlanQuorumStatus, Run, RunSession, StoredEvent } from "@kodo/contracts";
import { describeFailure, type KodoApi } from "../api/client.js";
import type { LiveEvents } from "../api/live-events.js";
import { EventGate } from "./event-gate.js";
import { Store } from "./store.js";

export interface RunDetailState {
  phase: "loading" | "ready" | "error";
  error: string | undefined;
  run: Run | undefined;
  sessions: readonly RunSession[];
  /** per session, its items by item id */
  activity: ReadonlyMap<string, ReadonlyMap<string, ActivityItem>>;
  /** the plan quorum's votes and tally, once a vote was seen (undefined: no quorum, or none known yet) */
  planQuorum: PlanQuorumStatus | undefined;
}

const REFRESH_DELAY_MS = 250;

function runIdOf(stored: StoredEvent): string | null | undefined {
  const { event } = stored;
  return "runId" in event ? event.runId : undefined;
}

export class RunDetail {
  readonly store = new Store<RunDetailState>({ phase: "loading", error: undefined, run: undefined, sessions: [], activity: new Map(), planQuorum: undefined });
  readonly #api: KodoApi;
  readonly #live: LiveEvents;
  readonly #runId: string;
  readonly #gate = new EventGate((event) => this.#apply(event));
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #sessionsTimer: ReturnType<typeof setTimeout> | undefined;
  #votesTimer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: () => void = () => undefined;
  #closed = false;

  constructor(api: KodoApi, live: LiveEvents, runId: string) {
    this.#api = api;
    this.#live = live;
    this.#runId = runId;
  }

  start(): void {
    this.#unsubscribe = this.#gate.attach(this.#live);
    void this.#live.ready().then(() => this.load());
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#sessionsTimer);
    clearTimeout(this.#votesTimer);
  }

  async load(): Promise<void> {
    try {
      const [run, sessions] = await Promise.all([this.#api.getRun(this.#runId), this.#api.runSessions(this.#runId)]);
      const lists = await Promise.all(sessions.map((session) => this.#api.sessionActivity(session.sessionId)));
      if (this.#closed) return;
      const activity = new Map(sessions.map((session, index) => [session.sessionId, new Map((lists[index] ?? []).map((item) => [item.itemId, item]))]));
      this.store.set((state) => ({ ...state, phase: "ready", error: undefined, run, sessions, activity }));
      this.#gate.release();
    } catch (error) {
      this.store.set((state) => ({ ...state, phase: "error", error: describeFailure(error) }));
    }
  }

  /** A run this page changed (a decision, a cancel): shown at once. */
  put(run: Run): void {
    this.store.set((state) => ({ ...state, run }));
  }

  /** The plan quorum as a decision of this page answered it. */
  putQuorum(planQuorum: PlanQuorumStatus): void {
    if (planQuorum.runId === this.#runId) this.store.set((state) => ({ ...state, planQuorum }));
  }

  #apply(stored: StoredEvent): void {
    const { event } = stored;
    if (event.type === "session.activity") {
      const known = this.store.value.sessions.some((session) => session.sessionId === event.sessionId);
      if (event.runId !== this.#runId && !known) return;
      if (!known) this.#refreshSessions();
      this.store.set((state) => {
        const activity = new Map(state.activity);
        activity.set(event.sessionId, new Map(activity.get(event.sessionId) ?? []).set(event.item.itemId, event.item));
        return { ...state, activity };
      });
      return;
    }
    if (runIdOf(stored) !== this.#runId) return;
    if (event.type === "session.started") this.#refreshSessions();
    else this.#refreshRun();
    if (event.type === "plan.vote_recorded") this.#refreshVotes();
  }

  #refreshRun(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.#api.getRun(this.#runId).then((run) => !this.#closed && this.put(run), () => undefined);
    }, REFRESH_DELAY_MS);
  }

  #refreshVotes(): void {
    clearTimeout(this.#votesTimer);
    this.#votesTimer = setTimeout(() => {
      this.#api.planVotes(this.#runId).then((planQuorum) => !this.#closed && this.putQuorum(planQuorum), () => undefined);
    }, REFRESH_DELAY_MS);
  }

  #refreshSessions(): void {
    clearTimeout(this.#sessionsTimer);
    this.#sessionsTimer = setTimeout(() => {
      this.#api.runSessions(this.#runId).then(
        (sessions) => {
          if (!this.#closed) this.store.set((state) => ({ ...state, sessions }));
        },
        () => undefined,
      );
    }, REFRESH_DELAY_MS);
  }
}
