/**
 * The board's tasks, kept current by the event stream. Loading starts once the stream is open, and
 * events that arrive while the list loads are applied after it, in order: nothing between the two
 * is lost, and a list older than an event cannot undo it.
 */
import type { StoredEvent, Task } from "@kodo/contracts";
import type { KodoApi } from "../api/client.js";
import { describeFailure } from "../api/client.js";
import type { LiveEvents } from "../api/live-events.js";
import { EventGate } from "./event-gate.js";
import { Store } from "./store.js";

export interface BoardState {
  phase: "loading" | "ready" | "error";
  error: string | undefined;
  tasks: ReadonlyMap<string, Task>;
}

const REFRESH_DELAY_MS = 300;

export class BoardModel {
  readonly store = new Store<BoardState>({ phase: "loading", error: undefined, tasks: new Map() });
  readonly #api: KodoApi;
  readonly #live: LiveEvents;
  readonly #gate = new EventGate((event) => this.#apply(event));
  readonly #refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #reading = 0;

  constructor(api: KodoApi, live: LiveEvents) {
    this.#api = api;
    this.#live = live;
    this.#gate.attach(live);
  }

  async load(): Promise<void> {
    this.#gate.hold();
    this.store.set((state) => ({ ...state, phase: state.tasks.size === 0 ? "loading" : state.phase, error: undefined }));
    try {
      await this.#live.ready();
      const tasks = await this.#api.listTasks();
      this.store.set({ phase: "ready", error: undefined, tasks: new Map(tasks.map((task) => [task.id, task])) });
      this.#gate.release();
    } catch (error) {
      this.store.set((state) => ({ ...state, phase: "error", error: describeFailure(error) }));
    }
  }

  /** A task just created or changed by this page: shown at once, before its event arrives. */
  put(task: Task): void {
    this.store.set((state) => ({ ...state, tasks: new Map(state.tasks).set(task.id, task) }));
  }

  task(id: string): Task | undefined {
    return this.store.value.tasks.get(id);
  }

  #apply(stored: StoredEvent): void {
    const { event } = stored;
    switch (event.type) {
      case "task.created":
        if (this.task(event.taskId) === undefined) this.refresh(event.taskId, 0);
        return;
      case "task.status_changed": {
        const known = this.task(event.taskId);
        if (known !== undefined) this.put({ ...known, status: event.to, currentRunId: event.runId ?? known.currentRunId, updatedAt: stored.at });
        this.refresh(event.taskId);
        return;
      }
      case "model.call_completed":
        this.refresh(event.taskId);
        return;
      default:
        return;
    }
  }

  /** Reads the task again soon (usage totals), once for a burst of events. */
  refresh(taskId: string, delayMs = REFRESH_DELAY_MS): void {
    clearTimeout(this.#refreshTimers.get(taskId));
    this.#refreshTimers.set(
      taskId,
      setTimeout(() => {
        this.#refreshTimers.delete(taskId);
        this.#reading += 1;
        this.#api
          .getTask(taskId)
          .then(
            (task) => {
              const known = this.task(taskId);
              // the stream may have moved the status on while this read was under way
              this.put(known !== undefined && Date.parse(known.updatedAt) > Date.parse(task.updatedAt) ? { ...task, status: known.status, currentRunId: known.currentRunId, updatedAt: known.updatedAt } : task);
            },
            () => undefined,
          )
          .finally(() => {
            this.#reading -= 1;
          });
      }, delayMs),
    );
  }

  /** No task refresh is scheduled or under way (the board shows only what the stream said). */
  get settled(): boolean {
    return this.#refreshTimers.size === 0 && this.#reading === 0;
  }
}
