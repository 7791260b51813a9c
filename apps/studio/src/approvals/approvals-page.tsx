/** The inbox: every ask that waits for a person, soonest deadline first, and the ones answered lately. */
import type { ReactNode } from "react";
import { clock } from "../lib/format.js";
import { followLink } from "../lib/router.js";
import { useKodo } from "../state/kodo.js";
import { useStore } from "../state/store.js";
import { Empty, ErrorNote, Loading } from "../ui/states.js";
import { ApprovalCard } from "./approval-card.js";

export function ApprovalsPage(): ReactNode {
  const { approvals, board } = useKodo();
  const state = useStore(approvals.store);
  const { tasks } = useStore(board.store);
  return (
    <section className="page narrow" aria-labelledby="approvals-title">
      <h1 id="approvals-title">Approvals</h1>
      <p className="lead">What agents asked to do that the policy leaves to a person. An ask nobody answers is rejected at its deadline, and the agent is told so.</p>
      {state.phase === "loading" ? <Loading what="the asks" /> : null}
      {state.phase === "error" ? <ErrorNote title="The asks could not be loaded" message={state.error ?? ""} onRetry={() => void approvals.load()} /> : null}
      {state.phase === "ready" && state.pending.length === 0 ? (
        <Empty>
          <h2>Nothing waits for you</h2>
          <p>When an agent asks for something its task's policy leaves to a person (a command, a question), it shows up here, live.</p>
        </Empty>
      ) : null}
      <div className="approvals-list">
        {state.pending.map((approval) => (
          <ApprovalCard key={approval.id} approval={approval} showTask taskTitle={tasks.get(approval.taskId)?.title} />
        ))}
      </div>
      {state.recent.length > 0 ? (
        <section className="recent" aria-labelledby="recent-title">
          <h2 id="recent-title">Answered lately</h2>
          <ul className="recent-list">
            {state.recent.map((approval) => (
              <li key={approval.id} data-approval-id={approval.id}>
                <span className={`flag decision-${approval.decision ?? "none"}`}>{approval.decision ?? approval.status}</span>{" "}
                {approval.kind === "question" ? "question" : <code>{approval.permission ?? "?"}</code>} {approval.patterns.join(" ")} — by {approval.answeredBy ?? "?"}
                {approval.answeredAt !== null ? ` at ${clock(approval.answeredAt)}` : ""} ·{" "}
                <a href={`/tasks/${approval.taskId}`} onClick={followLink}>
                  {tasks.get(approval.taskId)?.title ?? approval.taskId}
                </a>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </section>
  );
}
