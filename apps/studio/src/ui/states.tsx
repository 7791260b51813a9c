/** Loading, empty and error states, the same everywhere. */
import type { ReactNode } from "react";

export function Loading(props: { what: string }): ReactNode {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {props.what}…
    </p>
  );
}

export function Empty(props: { children: ReactNode }): ReactNode {
  return <div className="state state-empty">{props.children}</div>;
}

export function ErrorNote(props: { title?: string; message: string; onRetry?: () => void }): ReactNode {
  return (
    <div className="state state-error" role="alert">
      <strong>{props.title ?? "Something went wrong"}</strong>
      <p>{props.message}</p>
      {props.onRetry !== undefined ? (
        <button type="button" className="button" onClick={props.onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
