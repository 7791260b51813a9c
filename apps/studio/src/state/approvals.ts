/**
 * The agents' asks that wait for a person, kept current by the event stream (`approval.requested`,
 * `approval.answered`), and the ones answered lately, for the inbox's history.
 */
import type { Approval, StoredEvent } from "@kodo/contracts";
import type { KodoApi } from "../api/client.js";
import { describeFailure } from "../api/client.js";
import type { LiveEvents } from "../api/live-events.js";
import { EventGate } from "./event-gate.js";
import { Store } from "./store.js";

export interface ApprovalsState {
  phase: "loading" | "ready" | "error";
  error: string | undefined;
  /** soonest deadline first */
  pending: readonly Approval[];
  /** newest first */
  recent: readonly Approval[];
}

const RECENT = 10;
const POLICY_ACTOR = "kodo:policy";

/** Asks the policy answered itself never waited for anyone: the history shows the others. */
function byPerson(approval: Approval): boolean {
  return approval.answeredBy !== POLICY_ACTOR;
}

function byDeadline(a: Approval, b: Approval): number {
  return Date.parse(a.deadlineAt) - Date.parse(b.deadlineAt);
}

export class ApprovalsModel {
  readonly store = new Store<ApprovalsState>({ phase: "loading", error: undefined, pending: [], recent: [] });
  readonly #api: KodoApi;
  readonly #live: LiveEvents;
  readonly #gate = new EventGate((event) => this.#apply(event));
  /** answered while its read was under way: not to be listed as pending again */
  readonly #answeredIds = new Set<string>();

  constructor(api: KodoApi, live: LiveEvents) {
    this.#api = api;
    this.#live = live;
    this.#gate.attach(live);
  }

  async load(): Promise<void> {
    this.#gate.hold();
    try {
      await this.#live.ready();
      const [pending, answered] = await Promise.all([this.#api.listApprovals({ status: "pending" }), this.#api.listApprovals({ status: "answered", limit: 100 })]);
      this.store.set({ phase: "ready", error: undefined, pending: [...pending].sort(byDeadline), recent: answered.filter(byPerson).slice(0, RECENT) });
      this.#gate.release();
    } catch (error) {
      this.store.set((state) => ({ ...state, phase: "error", error: describeFailure(error) }));
    }
  }

  /** An answer given on this page: off the pending list at once. */
  answered(approval: Approval): void {
    this.#answeredIds.add(approval.id);
    if (!byPerson(approval)) return;
    this.store.set((state) => ({
      ...state,
      pending: state.pending.filter((item) => item.id !== approval.id),
      recent: [approval, ...state.recent.filter((item) => item.id !== approval.id)].slice(0, RECENT),
    }));
  }

  pendingOfRun(runId: string): Approval[] {
    return this.store.value.pending.filter((approval) => approval.runId === runId);
  }

  #apply(stored: StoredEvent): void {
    const { event } = stored;
    if (event.type === "approval.requested") {
      this.#api.getApproval(event.approvalId).then(
        (approval) => {
          if (approval.status !== "pending" || this.#answeredIds.has(approval.id)) return;
          this.store.set((state) => ({ ...state, pending: [...state.pending.filter((item) => item.id !== approval.id), approval].sort(byDeadline) }));
        },
        () => undefined,
      );
    } else if (event.type === "approval.answered") {
      this.#answeredIds.add(event.approvalId);
      this.store.set((state) => ({ ...state, pending: state.pending.filter((item) => item.id !== event.approvalId) }));
      if (!this.store.value.recent.some((item) => item.id === event.approvalId)) {
        this.#api.getApproval(event.approvalId).then((approval) => this.answered(approval), () => undefined);
      }
    }
  }
}
