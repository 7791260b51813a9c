/**
 * "You are: NAME" in the header: the name Studio sends as `X-Kodo-Actor` with your decisions. A
 * button opens a dialog with the name to type (checked with the server's rule), Save, and Forget;
 * Escape or Cancel closes it without a change. Empty means not set: kodo records `api`.
 */
import { useId, useState, type ReactNode } from "react";
import { ACTOR_RULE, parseActorName } from "./api/actor.js";
import { useKodo } from "./state/kodo.js";
import { useStore } from "./state/store.js";
import { Dialog } from "./ui/dialog.js";

export function IdentityControl(): ReactNode {
  const { identity } = useKodo();
  const name = useStore(identity.name);
  const editing = useStore(identity.editing);
  return (
    <>
      <button
        type="button"
        className={`identity${name === undefined ? " identity-unset" : ""}`}
        aria-haspopup="dialog"
        onClick={() => identity.edit()}
        title={`${name === undefined ? "No name set" : `You are ${name}`}: the name Studio sends with your decisions (X-Kodo-Actor)`}
        data-actor={name ?? ""}
      >
        You are: <strong>{name ?? "not set"}</strong>
      </button>
      <Dialog open={editing} title="Who are you?" onClose={() => identity.editing.set(false)}>
        {editing ? <IdentityForm name={name} onDone={() => identity.editing.set(false)} onSave={(next) => identity.set(next)} /> : null}
      </Dialog>
    </>
  );
}

/** Mounted at each opening, so it starts from the name in use. */
function IdentityForm(props: { name: string | undefined; onSave: (name: string | undefined) => void; onDone: () => void }): ReactNode {
  const [draft, setDraft] = useState(props.name ?? "");
  const [error, setError] = useState<string | undefined>();
  const id = useId();
  return (
    <form
      className="form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = parseActorName(draft);
        if ("error" in parsed) {
          setError(parsed.error);
          return;
        }
        props.onSave(parsed.name);
        props.onDone();
      }}
    >
      <div className="field">
        <label htmlFor={id}>Your name</label>
        <input
          id={id}
          type="text"
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          value={draft}
          placeholder="e.g. alice"
          aria-invalid={error !== undefined}
          aria-describedby={`${id}-hint${error !== undefined ? ` ${id}-error` : ""}`}
          onChange={(event) => {
            setDraft(event.target.value);
            setError(undefined);
          }}
          data-autofocus
        />
        {error !== undefined ? (
          <p id={`${id}-error`} className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <p id={`${id}-hint`} className="field-hint">
          Sent as <code>X-Kodo-Actor</code> when you approve or reject a plan or answer an ask: kodo records the decision under this name, and a plan quorum counts it as your vote. {ACTOR_RULE}. Empty: not set, and kodo records <code>api</code>. Kept in this browser; it is a name, not a password.
        </p>
      </div>
      <footer className="dialog-actions">
        {props.name !== undefined ? (
          <button
            type="button"
            className="button"
            onClick={() => {
              props.onSave(undefined);
              props.onDone();
            }}
          >
            Forget the name
          </button>
        ) : null}
        <button type="button" className="button" onClick={props.onDone}>
          Cancel
        </button>
        <button type="submit" className="button primary">
          Save
        </button>
      </footer>
    </form>
  );
}
