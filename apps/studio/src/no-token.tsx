/** Without a token the board can show nothing: say where the link comes from. */
import { useId, useState, type ReactNode } from "react";
import { tokenFromInput } from "./api/token.js";

export function NoToken(props: { refused: boolean; onToken: (token: string) => void }): ReactNode {
  const [text, setText] = useState("");
  const [invalid, setInvalid] = useState(false);
  const inputId = useId();
  return (
    <main className="page narrow no-token" id="content">
      <h1>
        <span className="brand-mark" aria-hidden="true">
          k
        </span>
        kodo Studio needs its link
      </h1>
      {props.refused ? (
        <p className="state state-error" role="alert">
          kodo did not accept the token this tab had: the server was probably started with a new kodo home. Get the link again.
        </p>
      ) : null}
      <p>Studio opens from a link that carries kodo's API token after the <code>#</code>. Your browser keeps that part to itself (it is never sent to a server), and this tab keeps the token until you close it.</p>
      <p>Get the link on the machine that runs kodo:</p>
      <pre className="code-block">kodo studio{"\n"}# or, to open it in your browser:{"\n"}kodo studio --open</pre>
      <p>
        <code>kodo serve</code> prints the same link (the <code>studio:</code> line) when it starts.
      </p>
      <form
        className="paste-form"
        onSubmit={(event) => {
          event.preventDefault();
          const token = tokenFromInput(text);
          if (token === undefined) setInvalid(true);
          else props.onToken(token);
        }}
      >
        <label htmlFor={inputId}>Or paste the link here</label>
        <div className="inline-fields">
          <input
            id={inputId}
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={text}
            aria-invalid={invalid}
            aria-describedby={invalid ? `${inputId}-error` : undefined}
            onChange={(event) => {
              setText(event.target.value);
              setInvalid(false);
            }}
            placeholder="http://127.0.0.1:7433/#token=…"
          />
          <button type="submit" className="button primary">
            Open
          </button>
        </div>
        {invalid ? (
          <p id={`${inputId}-error`} className="field-error">
            That is not a Studio link (it ends in #token= and 64 hex characters).
          </p>
        ) : null}
      </form>
    </main>
  );
}
