/**
 * Who uses this board: a name the person declares ("You are: alice"), sent as `X-Kodo-Actor` with
 * the decisions (plan approve/reject, answering an ask) so kodo records them under that name and a
 * plan quorum counts the vote. It is not a secret and not authenticated (anyone with the token can
 * claim any name), so it is kept in localStorage, shared by the tabs of this browser. No name: the
 * header is not sent and kodo records the decision as `api`, as before.
 */
import { ActorName } from "@kodo/contracts";
import { Store } from "../state/store.js";

const STORAGE_KEY = "kodo.actor";

/** The server's rule (ActorName of @kodo/contracts, checked by apps/server/src/http/actor.ts), said for people. */
export const ACTOR_RULE = "1–100 characters of A-Z a-z 0-9 . _ @ - (no spaces)";

/** A typed name: `{ name }` (undefined when empty = not set) or `{ error }` saying the rule. */
export function parseActorName(text: string): { name: string | undefined } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { name: undefined };
  return ActorName.safeParse(trimmed).success ? { name: trimmed } : { error: `A name is ${ACTOR_RULE}.` };
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled: the name lives as long as the page
  }
}

function stored(): string | undefined {
  const raw = storage()?.getItem(STORAGE_KEY) ?? undefined;
  if (raw === undefined) return undefined;
  const parsed = parseActorName(raw);
  return "name" in parsed ? parsed.name : undefined;
}

export class Identity {
  /** the declared name; undefined = not set */
  readonly name = new Store<string | undefined>(stored());
  /** the "You are" dialog is open (a failed decision can open it too) */
  readonly editing = new Store<boolean>(false);

  /** Follows a name changed in another tab of this browser; returns the stop. */
  watch(): () => void {
    const changed = (event: StorageEvent): void => {
      if (event.key === STORAGE_KEY || event.key === null) this.name.set(stored());
    };
    window.addEventListener("storage", changed);
    return () => window.removeEventListener("storage", changed);
  }

  /** Sets (or, with undefined, forgets) the name; it must already be valid. */
  set(name: string | undefined): void {
    if (name === undefined) storage()?.removeItem(STORAGE_KEY);
    else storage()?.setItem(STORAGE_KEY, name);
    this.name.set(name);
  }

  edit(): void {
    this.editing.set(true);
  }
}
