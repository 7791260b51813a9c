/**
 * The plan the agent proposes, and the decision on it: Approve, or Reject with a reason. Under a
 * plan quorum (the repository's governance) a decision is a vote: the card shows the tally
 * ("1 of 2 approvals: alice") while the plan still waits, not an approval.
 */
import { useId, useState, type ReactNode } from "react";
import type { PlanDecisionResponse, PlanQuorumStatus, Run } from "@kodo/contracts";
import { dateTime } from "../lib/format.js";
import { names, quorumTally } from "../lib/quorum.js";
import { useKodo } from "../state/kodo.js";
import { DecisionFailure } from "../ui/decision-failure.js";
import { Dialog } from "../ui/dialog.js";

function PlanList(props: { title: string; items: readonly string[]; ordered?: boolean; code?: boolean }): ReactNode {
  if (props.items.length === 0) return null;
  const items = props.items.map((item, index) => <li key={index}>{props.code === true ? <code>{item}</code> : item}</li>);
  return (
    <div className="plan-part">
      <h3>{props.title}</h3>
      {props.ordered === true ? <ol>{items}</ol> : <ul>{items}</ul>}
    </div>
  );
}

export function PlanCard(props: { run: Run; planApproval: "manual" | "auto"; planQuorum: PlanQuorumStatus | undefined; onQuorum: (status: PlanQuorumStatus) => void }): ReactNode {
  const { run, onQuorum } = props;
  const { api } = useKodo();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const reasonId = useId();
  const waiting = run.status === "PlanningReview";
  const plan = run.plan;
  const rejection = run.history.find((change) => change.to === "Rejected");
  // a quorum still counting: the plan waits, whatever this page's own vote was
  const voting = waiting && props.planQuorum !== undefined && props.planQuorum.decision === null ? props.planQuorum : undefined;

  const decide = async (decision: () => Promise<PlanDecisionResponse>): Promise<boolean> => {
    setBusy(true);
    setFailure(undefined);
    try {
      const answer = await decision();
      if (answer.planQuorum !== undefined) onQuorum(answer.planQuorum);
      return true;
    } catch (error) {
      setFailure(error);
      return false;
    } finally {
      setBusy(false);
    }
  };

  if (plan === null) {
    return (
      <section className="section plan-card" aria-labelledby="plan-title">
        <h2 id="plan-title">Plan</h2>
        <p className="muted">{run.status === "Planning" ? "The plan agent is reading the repository…" : "No plan was made."}</p>
      </section>
    );
  }
  return (
    <section className={`section plan-card${waiting ? " plan-waiting" : ""}`} aria-labelledby="plan-title" data-plan-state={waiting ? "waiting" : run.planApprovedAt !== null ? "approved" : rejection !== undefined ? "rejected" : "decided"}>
      <header className="section-head">
        <h2 id="plan-title">Plan</h2>
        {run.planApprovedAt !== null ? (
          <span className="flag flag-ok">approved {dateTime(run.planApprovedAt)}</span>
        ) : rejection !== undefined ? (
          <span className="flag flag-bad">rejected</span>
        ) : voting !== undefined ? (
          <span className="flag flag-attention" data-quorum-tally>
            {quorumTally(voting)}
          </span>
        ) : waiting ? (
          <span className="flag flag-attention">waits for your decision</span>
        ) : null}
      </header>
      <p className="plan-summary">{plan.summary}</p>
      <PlanList title="Steps" items={plan.steps} ordered />
      <PlanList title="Files" items={plan.files} code />
      <PlanList title="Risks" items={plan.risks} />
      <PlanList title="Tests" items={plan.tests} />
      {rejection?.reason != null ? <p className="plan-reason">Reason: {rejection.reason}</p> : null}
      {voting !== undefined ? (
        <p className="note" role="status">
          Not approved yet: the plan quorum needs {voting.required} of {names(voting.approvers)}
          {voting.tally.outstanding.length > 0 ? <> (not voted yet: {names(voting.tally.outstanding)})</> : null}. The plan waits until it decides.
        </p>
      ) : null}
      {failure !== undefined && !rejecting ? <DecisionFailure error={failure} /> : null}
      {waiting ? (
        <footer className="plan-actions">
          <button type="button" className="button primary" disabled={busy} onClick={() => void decide(() => api.approvePlan(run.id))}>
            Approve plan
          </button>
          <button type="button" className="button danger" disabled={busy}
            onClick={() => {
              setFailure(undefined);
              setRejecting(true);
            }}
          >
            Reject…
          </button>
        </footer>
      ) : null}
      <Dialog open={rejecting} title="Reject the plan" onClose={() => setRejecting(false)}>
        <form
          className="form"
          onSubmit={(event) => {
            event.preventDefault();
            void decide(() => api.rejectPlan(run.id, reason.trim())).then((done) => {
              if (done) setRejecting(false);
            });
          }}
        >
          <div className="field">
            <label htmlFor={reasonId}>Why? (kept with the run)</label>
            <textarea id={reasonId} rows={4} required value={reason} onChange={(event) => setReason(event.target.value)} data-autofocus />
          </div>
          <p className="muted">
            {voting !== undefined
              ? "Under the plan quorum this is your vote: the run ends Rejected once approval can no longer be reached."
              : "The run ends Rejected; nothing is built. You can run the task again."}
          </p>
          {failure !== undefined && rejecting ? <DecisionFailure error={failure} /> : null}
          <footer className="dialog-actions">
            <button type="button" className="button" onClick={() => setRejecting(false)}>
              Back
            </button>
            <button type="submit" className="button danger" disabled={busy || reason.trim() === ""}>
              Reject plan
            </button>
          </footer>
        </form>
      </Dialog>
    </section>
  );
}
