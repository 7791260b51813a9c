/** Build attempts and their test results: the classification, counts, the failed tests, and what the agent was told. */
import type { ReactNode } from "react";
import type { Run } from "@kodo/contracts";
import { duration } from "../lib/format.js";

export function TestsSection(props: { run: Run }): ReactNode {
  const { attempts } = props.run;
  if (attempts.length === 0) return null;
  return (
    <section className="section" aria-labelledby="tests-title">
      <h2 id="tests-title">Attempts and tests</h2>
      <ol className="attempts">
        {attempts.map((attempt) => (
          <li key={attempt.attempt} className="attempt" data-attempt={attempt.attempt}>
            <header className="attempt-head">
              <strong>Attempt {attempt.attempt}</strong>
              {attempt.test !== null ? <span className={`flag ${attempt.test.class === "PASSED" ? "flag-ok" : "flag-bad"}`}>{attempt.test.class}</span> : <span className="flag">not tested</span>}
            </header>
            {attempt.summary !== "" ? <p>{attempt.summary}</p> : null}
            {attempt.test !== null ? (
              <>
                <p className="muted">
                  {attempt.test.counts.passed} passed, {attempt.test.counts.failed} failed, {attempt.test.counts.errors} errors, {attempt.test.counts.skipped} skipped · {attempt.test.runner} ·{" "}
                  {duration(attempt.test.durationMs)}
                  {attempt.test.sandboxed ? " · sandboxed" : " · not sandboxed"}
                </p>
                <p className="muted">{attempt.test.reason}</p>
                <pre className="code-block small">{attempt.test.command.join(" ")}</pre>
                {attempt.test.failed.length > 0 ? (
                  <ul className="failed-tests">
                    {attempt.test.failed.map((failed) => (
                      <li key={failed.id}>
                        <code>{failed.id}</code>
                        {failed.message !== "" ? <pre className="code-block small">{failed.message}</pre> : null}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </>
            ) : null}
            {attempt.retryContext !== null ? (
              <details>
                <summary>What the next attempt was told</summary>
                <p>{attempt.retryContext.suggestion}</p>
              </details>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
