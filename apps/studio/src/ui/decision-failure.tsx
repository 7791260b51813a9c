/**
 * A decision that failed: the server's message as it is, and, when kodo refused the person (403:
 * not an approver of the plan's quorum, or no name so kodo took the decision for `api`), a way to
 * set the name Studio sends.
 */
import type { ReactNode } from "react";
import { ApiFailure, describeFailure } from "../api/client.js";
import { useKodo } from "../state/kodo.js";
import { useStore } from "../state/store.js";

export function DecisionFailure(props: { error: unknown }): ReactNode {
  const { identity } = useKodo();
  const name = useStore(identity.name);
  const refused = props.error instanceof ApiFailure && props.error.status === 403;
  return (
    <div className="field-error decision-failure" role="alert">
      <p>{describeFailure(props.error)}</p>
      {refused ? (
        <p className="decision-hint">
          {name === undefined ? (
            <>Studio sent no name, so kodo counted the decision as <code>api</code>. Set your name to one of the approvers and try again.</>
          ) : (
            <>
              Studio sent the name <strong>{name}</strong>. If you are someone else, change it and try again.
            </>
          )}{" "}
          <button type="button" className="button small" onClick={() => identity.edit()}>
            {name === undefined ? "Set your name…" : "Change your name…"}
          </button>
        </p>
      ) : null}
    </div>
  );
}
