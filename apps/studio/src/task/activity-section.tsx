/**
 * What the agent sessions of the run did, as it happens: messages, text, tool calls with their
 * state, permission asks and errors. One tab per session (plan, build, …).
 */
import { useState, type ReactNode } from "react";
import type { ActivityItem, RunSession } from "@kodo/contracts";
import { clock } from "../lib/format.js";

const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const record = (value: unknown): Record<string, unknown> => (typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {});

/** The one line that says what a tool call does: its command, file or title. */
function toolSubject(state: Record<string, unknown>): string | undefined {
  const input = record(state["input"]);
  return text(input["command"]) ?? text(input["filePath"]) ?? text(input["path"]) ?? text(input["pattern"]) ?? text(state["title"]);
}

function Item(props: { item: ActivityItem; role: string | undefined }): ReactNode {
  const { item, role } = props;
  const data = item.data;
  switch (item.kind) {
    case "message":
      return (
        <li className="activity-message" data-kind="message">
          <span className="activity-role">{text(data["role"]) ?? "message"}</span>
          {text(record(data["error"])["message"]) !== undefined ? <span className="flag flag-bad">{text(record(data["error"])["message"])}</span> : null}
          <time dateTime={item.updatedAt}>{clock(item.updatedAt)}</time>
        </li>
      );
    case "text":
    case "reasoning": {
      const body = text(data["text"]) ?? "";
      const long = role === "user" || body.length > 600;
      return (
        <li className={`activity-text activity-${item.kind}`} data-kind={item.kind}>
          {long ? (
            <details>
              <summary>{role === "user" ? "Prompt to the agent" : `${body.slice(0, 120)}…`}</summary>
              <p className="prose">{body}</p>
            </details>
          ) : (
            <p className="prose">{body}</p>
          )}
        </li>
      );
    }
    case "tool": {
      // kodo records the tool's state as its status word; a fuller state object is read too
      const state = record(data["state"]);
      const status = text(data["state"]) ?? text(state["status"]) ?? "pending";
      const output = text(state["output"]) ?? text(state["error"]);
      return (
        <li className="activity-tool" data-kind="tool" data-tool={text(data["tool"]) ?? ""}>
          <span className={`tool-status tool-${status}`}>{status}</span> <code className="tool-name">{text(data["tool"]) ?? "tool"}</code> <span className="tool-subject">{toolSubject(state) ?? ""}</span>
          {output !== undefined ? (
            <details>
              <summary>output</summary>
              <pre className="code-block small">{output.length > 20_000 ? `${output.slice(0, 20_000)}\n…` : output}</pre>
            </details>
          ) : null}
        </li>
      );
    }
    case "permission":
      return (
        <li className="activity-permission" data-kind="permission">
          <span className="flag">permission asked</span> <code>{text(data["permission"]) ?? "?"}</code> {Array.isArray(data["patterns"]) ? (data["patterns"] as unknown[]).map(String).join(", ") : ""}
        </li>
      );
    case "error":
      return (
        <li className="activity-error" data-kind="error">
          <span className="flag flag-bad">{text(data["name"]) ?? "error"}</span> {text(data["message"]) ?? ""}
        </li>
      );
    default:
      return (
        <li className="activity-other" data-kind={item.kind}>
          <span className="flag">{item.kind}</span>
        </li>
      );
  }
}

export function ActivitySection(props: { sessions: readonly RunSession[]; activity: ReadonlyMap<string, ReadonlyMap<string, ActivityItem>> }): ReactNode {
  const { sessions, activity } = props;
  const [chosen, setChosen] = useState<string | undefined>();
  const current = sessions.find((session) => session.sessionId === chosen) ?? sessions[sessions.length - 1];
  const items = current === undefined ? [] : [...(activity.get(current.sessionId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  const roles = new Map(items.filter((item) => item.kind === "message").map((item) => [item.itemId, text(item.data["role"])]));
  return (
    <section className="section" aria-labelledby="activity-title">
      <h2 id="activity-title">Agent activity</h2>
      {sessions.length === 0 ? (
        <p className="muted">No agent session yet.</p>
      ) : (
        <>
          <div className="tabs" role="tablist" aria-label="Sessions">
            {sessions.map((session) => (
              <button
                key={session.sessionId}
                type="button"
                role="tab"
                id={`tab-${session.sessionId}`}
                aria-selected={session.sessionId === current?.sessionId}
                aria-controls="activity-panel"
                className="tab"
                onClick={() => setChosen(session.sessionId)}
              >
                {session.agent} <span className="muted">({activity.get(session.sessionId)?.size ?? 0})</span>
              </button>
            ))}
          </div>
          <ol className="activity" id="activity-panel" role="tabpanel" aria-labelledby={current === undefined ? undefined : `tab-${current.sessionId}`}>
            {items.length === 0 ? <li className="muted">Nothing yet.</li> : items.map((item) => <Item key={item.itemId} item={item} role={item.messageId === null ? undefined : roles.get(item.messageId)} />)}
          </ol>
        </>
      )}
    </section>
  );
}
