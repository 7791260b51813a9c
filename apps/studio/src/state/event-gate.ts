/**
 * Holds the stream's events while a model loads its snapshot, then applies them in order: the
 * snapshot is read after the stream is open, so nothing between the two is lost, and an event
 * older than the snapshot is applied after it (the latest state wins).
 */
import type { StoredEvent } from "@kodo/contracts";
import type { LiveEvents } from "../api/live-events.js";

export class EventGate {
  #held: StoredEvent[] | undefined = [];
  readonly #apply: (event: StoredEvent) => void;

  constructor(apply: (event: StoredEvent) => void) {
    this.#apply = apply;
  }

  /** Starts taking the stream's events; returns the unsubscribe. */
  attach(live: LiveEvents): () => void {
    return live.subscribe((event) => {
      if (this.#held !== undefined) this.#held.push(event);
      else this.#apply(event);
    });
  }

  /** A (re)load begins: hold events until `release`. */
  hold(): void {
    this.#held ??= [];
  }

  /** The snapshot is in: apply what was held, then everything as it comes. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const event of held) this.#apply(event);
  }
}
