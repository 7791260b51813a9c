/**
 * A task and its current run: the plan and its decision, what the agent is asking, the diff, the
 * tests, the session activity as it happens; beside them the status history, tokens and cost,
 * audit findings and the evidence.
 */
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { isTerminal, type Task } from "@kodo/contracts";
import { describeFailure } from "../api/client.js";
import { ApprovalCard } from "../approvals/approval-card.js";
import { dateTime } from "../lib/format.js";
import { followLink } from "../lib/router.js";
import { useKodo } from "../state/kodo.js";
import { RunDetail, type RunDetailState } from "../state/run-detail.js";
import { Store, useStore } from "../state/store.js";
import { Dialog } from "../ui/dialog.js";
import { ErrorNote, Loading } from "../ui/states.js";
import { StatusBadge } from "../ui/status-badge.js";
import { ActivitySection } from "./activity-section.js";
import { AuditSection, EvidenceSection } from "./evidence-section.js";
import { DiffSection } from "./diff-section.js";
import { PlanCard } from "./plan-card.js";
import { TestsSection } from "./tests-section.js";
import { Timeline } from "./timeline.js";
import { UsageSection } from "./usage-section.js";

export function TaskPage(props: { taskId: string }): ReactNode {
  const { api, board } = useKodo();
  const { tasks, phase } = useStore(board.store);
  const task = tasks.get(props.taskId);
  const [failure, setFailure] = useState<string | undefined>();
  useEffect(() => {
    if (task !== undefined || phase === "loading") return;
    api.getTask(props.taskId).then((found) => board.put(found), (error: unknown) => setFailure(describeFailure(error)));
  }, [api, board, task, phase, props.taskId]);
  if (failure !== undefined) return <ErrorNote title={`Task ${props.taskId}`} message={failure} />;
  if (task === undefined) return <Loading what="the task" />;
  return <TaskView task={task} />;
}

const NO_RUN = new Store<RunDetailState | undefined>(undefined);

/** The current run's detail, loaded and followed while the page shows it (and the model, to tell it of a decision). */
function useRunDetail(runId: string | null): { state: RunDetailState | undefined; model: RunDetail | undefined } {
  const { api, live } = useKodo();
  const detail = useMemo(() => (runId === null ? undefined : new RunDetail(api, live, runId)), [api, live, runId]);
  useEffect(() => {
    detail?.start();
    return () => detail?.close();
  }, [detail]);
  return { state: useStore<RunDetailState | undefined>(detail?.store ?? NO_RUN), model: detail };
}

function TaskView(props: { task: Task }): ReactNode {
  const { task } = props;
  const { api, board, approvals } = useKodo();
  const { state: detail, model } = useRunDetail(task.currentRunId);
  const { pending } = useStore(approvals.store);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [confirmCancel, setConfirmCancel] = useState(false);
  const run = detail?.run;
  const active = run !== undefined ? !isTerminal(run.status) : !isTerminal(task.status) && task.status !== "Todo";
  const asks = pending.filter((approval) => approval.taskId === task.id);

  const execute = async (): Promise<void> => {
    setBusy(true);
    setFailure(undefined);
    try {
      const started = await api.executeTask(task.id);
      board.put({ ...task, status: started.status, currentRunId: started.runId });
    } catch (error) {
      setFailure(describeFailure(error));
    } finally {
      setBusy(false);
    }
  };
  const cancel = async (): Promise<void> => {
    if (task.currentRunId === null) return;
    setBusy(true);
    setFailure(undefined);
    try {
      await api.cancelRun(task.currentRunId);
      setConfirmCancel(false);
    } catch (error) {
      setFailure(describeFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="page task-page" data-task-id={task.id} aria-labelledby="task-title">
      <p className="crumbs">
        <a href="/" onClick={followLink}>
          ← Board
        </a>
      </p>
      <header className="task-head">
        <div>
          <h1 id="task-title">{task.title}</h1>
          <p className="task-meta">
            <code>{task.id}</code> · <span title={task.repoPath}>{task.repoPath}</span> @ <code>{task.baseRef}</code> · created {dateTime(task.createdAt)} ·{" "}
            {task.planApproval === "manual" ? "you approve the plan" : "plan approved automatically"}
            {task.verify !== null ? (
              <>
                {" "}
                · verified with <code>{task.verify.target}</code>
              </>
            ) : null}
          </p>
        </div>
        <div className="task-actions">
          <StatusBadge status={task.status} />
          {!active ? (
            <button type="button" className="button primary" disabled={busy} onClick={() => void execute()}>
              {task.currentRunId === null ? "Run" : "Run again"}
            </button>
          ) : (
            <button type="button" className="button danger" disabled={busy} onClick={() => setConfirmCancel(true)}>
              Cancel run
            </button>
          )}
        </div>
      </header>
      {failure !== undefined ? (
        <p className="state state-error" role="alert">
          {failure}
        </p>
      ) : null}
      <details className="prompt">
        <summary>Prompt</summary>
        <p className="prompt-text">{task.prompt}</p>
      </details>
      {asks.length > 0 ? (
        <section className="asks" aria-labelledby="asks-title">
          <h2 id="asks-title">The agent waits for you</h2>
          {asks.map((approval) => (
            <ApprovalCard key={approval.id} approval={approval} />
          ))}
        </section>
      ) : null}
      {task.currentRunId === null ? (
        <section className="section">
          <p>This task has not run yet. A run plans the work first{task.planApproval === "manual" ? " and waits for your approval before the build" : ""}.</p>
        </section>
      ) : detail === undefined || detail.phase === "loading" ? (
        <Loading what="the run" />
      ) : detail.phase === "error" || run === undefined ? (
        <ErrorNote title="The run could not be loaded" message={detail.error ?? "no run"} />
      ) : (
        <div className="task-grid">
          <div className="task-main">
            {run.error !== null ? (
              <section className="section run-error" role="alert">
                <h2>
                  The run ended with <code>{run.error.code}</code>
                </h2>
                <p>{run.error.message}</p>
              </section>
            ) : null}
            <PlanCard run={run} planApproval={task.planApproval} planQuorum={detail.planQuorum} onQuorum={(status) => model?.putQuorum(status)} />
            <DiffSection run={run} />
            <TestsSection run={run} />
            <ActivitySection sessions={detail.sessions} activity={detail.activity} />
          </div>
          <aside className="task-side">
            <Timeline run={run} />
            <UsageSection task={task} run={run} />
            <AuditSection run={run} />
            <EvidenceSection run={run} />
          </aside>
        </div>
      )}
      <Dialog open={confirmCancel} title="Cancel this run?" onClose={() => setConfirmCancel(false)}>
        <p>The agent is stopped and the run ends Cancelled. Its worktree and branch are kept.</p>
        <footer className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirmCancel(false)}>
            Keep it running
          </button>
          <button type="button" className="button danger" disabled={busy} onClick={() => void cancel()}>
            Cancel run
          </button>
        </footer>
      </Dialog>
    </article>
  );
}
