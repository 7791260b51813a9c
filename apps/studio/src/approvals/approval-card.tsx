/**
 * One ask of an agent: what it wants to do (a permission with its patterns, or questions), why the
 * policy asks a person, the deadline counting down, and the answers: allow once, always (calls like
 * it, for the rest of the session) or reject with a message; a question takes an answer text.
 */
import { useId, useState, type ReactNode } from "react";
import type { Approval, ApprovalDecision } from "@kodo/contracts";
import { clock, remaining } from "../lib/format.js";
import { followLink } from "../lib/router.js";
import { useKodo, useNow } from "../state/kodo.js";
import { DecisionFailure } from "../ui/decision-failure.js";

function commandOf(approval: Approval): string | undefined {
  const command = approval.metadata["command"];
  return typeof command === "string" ? command : undefined;
}

function Deadline(props: { deadlineAt: string }): ReactNode {
  const now = useNow(1000);
  const left = Date.parse(props.deadlineAt) - now;
  const urgency = left <= 0 ? "passed" : left < 60_000 ? "soon" : "later";
  return (
    <span className={`deadline deadline-${urgency}`} title={`deadline ${clock(props.deadlineAt)}; unanswered, the ask is rejected`}>
      {left <= 0 ? "deadline passed" : <>rejected in <time dateTime={props.deadlineAt}>{remaining(left)}</time></>}
    </span>
  );
}

export function ApprovalCard(props: { approval: Approval; taskTitle?: string | undefined; showTask?: boolean }): ReactNode {
  const { approval } = props;
  const { api, approvals } = useKodo();
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const id = useId();
  const command = commandOf(approval);
  const isQuestion = approval.kind === "question";

  const answer = async (decision: ApprovalDecision, text: string): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      const answered = await api.answerApproval(approval.id, { decision, ...(text.trim() === "" ? {} : { message: text.trim() }) });
      approvals.answered(answered);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="approval" data-approval-id={approval.id} aria-labelledby={`${id}-title`}>
      <header className="approval-head">
        <h3 id={`${id}-title`}>{isQuestion ? "The agent asks a question" : <>The agent wants to use <code>{approval.permission ?? "a tool"}</code></>}</h3>
        <Deadline deadlineAt={approval.deadlineAt} />
      </header>
      {props.showTask === true ? (
        <p className="approval-task">
          <a href={`/tasks/${approval.taskId}`} onClick={followLink}>
            {props.taskTitle ?? approval.taskId}
          </a>{" "}
          · run <code>{approval.runId}</code> · asked {clock(approval.createdAt)}
        </p>
      ) : null}
      {command !== undefined ? <pre className="code-block">{command}</pre> : null}
      {!isQuestion && approval.patterns.length > 0 && command === undefined ? (
        <ul className="patterns">
          {approval.patterns.map((pattern) => (
            <li key={pattern}>
              <code>{pattern}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {approval.decidedByPolicy !== null ? (
        <p className="approval-why">
          <span className="flag">{approval.decidedByPolicy.code}</span> {approval.decidedByPolicy.reason}
        </p>
      ) : null}
      {isQuestion
        ? (approval.questions ?? []).map((question, index) => (
            <div key={index} className="question">
              <p>
                <strong>{question.header}</strong> {question.question}
              </p>
              {question.options.length > 0 ? (
                <div className="question-options" role="group" aria-label="Suggested answers">
                  {question.options.map((option) => (
                    <button key={option.label} type="button" className="button small" title={option.description} onClick={() => setMessage(option.label)}>
                      {option.label}
                    </button>
                  ))}
                </div>
              ) : null}
            </div>
          ))
        : null}
      <form
        className="approval-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (isQuestion) void answer("once", message);
        }}
      >
        <label htmlFor={`${id}-message`}>{isQuestion ? "Your answer" : "Message to the agent (optional; say why when you reject)"}</label>
        <textarea id={`${id}-message`} rows={2} value={message} onChange={(event) => setMessage(event.target.value)} required={isQuestion} />
        <div className="approval-actions">
          {isQuestion ? (
            <button type="submit" className="button primary" disabled={busy || message.trim() === ""}>
              Send answer
            </button>
          ) : (
            <>
              <button type="button" className="button primary" disabled={busy} onClick={() => void answer("once", message)}>
                Allow once
              </button>
              <button type="button" className="button" disabled={busy} onClick={() => void answer("always", message)} title="allow calls like this one for the rest of the session">
                Always allow
              </button>
            </>
          )}
          <button type="button" className="button danger" disabled={busy} onClick={() => void answer("reject", message)}>
            Reject
          </button>
        </div>
      </form>
      {failure !== undefined ? <DecisionFailure error={failure} /> : null}
    </article>
  );
}
