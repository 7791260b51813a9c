/** The run's status history, oldest first, with the reason of each change. */
import type { ReactNode } from "react";
import type { Run } from "@kodo/contracts";
import { clock, dateTime, STATUS_LABELS } from "../lib/format.js";

export function Timeline(props: { run: Run }): ReactNode {
  const { history } = props.run;
  return (
    <section className="section" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {history.length === 0 ? (
        <p className="muted">No status change yet.</p>
      ) : (
        <ol className="timeline">
          {history.map((change, index) => (
            <li key={index} className={`timeline-item status-${change.to}`} data-status={change.to}>
              <span className="timeline-dot" aria-hidden="true" />
              <span className="timeline-status">{STATUS_LABELS[change.to]}</span>
              <time dateTime={change.at} title={dateTime(change.at)}>
                {clock(change.at)}
              </time>
              {change.reason !== null ? <span className="timeline-reason">{change.reason}</span> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
