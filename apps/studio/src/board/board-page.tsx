/**
 * The board: a column per status of a run's life, and one for the runs that ended otherwise
 * (Failed, Rejected, Cancelled). Cards move when the event stream says so.
 */
import type { ReactNode } from "react";
import type { Task, TaskStatus } from "@kodo/contracts";
import { STATUS_LABELS } from "../lib/format.js";
import { useKodo, useNow } from "../state/kodo.js";
import { useStore } from "../state/store.js";
import { Empty, ErrorNote, Loading } from "../ui/states.js";
import { TaskCard } from "./task-card.js";

interface ColumnSpec {
  key: string;
  title: string;
  statuses: readonly TaskStatus[];
  hint: string;
}

export const COLUMNS: readonly ColumnSpec[] = [
  { key: "Todo", title: STATUS_LABELS.Todo, statuses: ["Todo"], hint: "created, not run yet" },
  { key: "Planning", title: STATUS_LABELS.Planning, statuses: ["Planning"], hint: "the plan agent reads the repository" },
  { key: "PlanningReview", title: STATUS_LABELS.PlanningReview, statuses: ["PlanningReview"], hint: "a plan waits for your decision" },
  { key: "InProgress", title: STATUS_LABELS.InProgress, statuses: ["InProgress"], hint: "the build agent works in the worktree" },
  { key: "AiReview", title: STATUS_LABELS.AiReview, statuses: ["AiReview"], hint: "tests and review of the work" },
  { key: "Done", title: STATUS_LABELS.Done, statuses: ["Done"], hint: "finished and committed on its branch" },
  { key: "Ended", title: "Stopped", statuses: ["Failed", "Rejected", "Cancelled"], hint: "failed, rejected or cancelled" },
];

function newestFirst(a: Task, b: Task): number {
  return Date.parse(b.updatedAt) - Date.parse(a.updatedAt);
}

export function BoardPage(props: { onCreate: () => void }): ReactNode {
  const { board, approvals } = useKodo();
  const state = useStore(board.store);
  const { pending } = useStore(approvals.store);
  const now = useNow(10_000);
  if (state.phase === "loading") return <Loading what="the board" />;
  if (state.phase === "error") return <ErrorNote title="The board could not be loaded" message={state.error ?? ""} onRetry={() => void board.load()} />;
  const tasks = [...state.tasks.values()].sort(newestFirst);
  const asks = new Map<string, number>();
  for (const approval of pending) asks.set(approval.taskId, (asks.get(approval.taskId) ?? 0) + 1);
  return (
    <section className="page board-page" aria-labelledby="board-title">
      <h1 id="board-title" className="visually-hidden">
        Board
      </h1>
      {tasks.length === 0 ? (
        <Empty>
          <h2>No tasks yet</h2>
          <p>A task says what an agent should do in which repository. kodo plans it, waits for your approval, then builds it in a worktree of its own.</p>
          <button type="button" className="button primary" onClick={props.onCreate}>
            Create the first task
          </button>
        </Empty>
      ) : null}
      <div className="board">
        {COLUMNS.map((column) => {
          const cards = tasks.filter((task) => column.statuses.includes(task.status));
          const headingId = `column-${column.key}`;
          return (
            <section key={column.key} className={`column column-${column.key}`} data-column={column.key} aria-labelledby={headingId}>
              <header className="column-head">
                <h2 id={headingId}>{column.title}</h2>
                <span className="count" aria-label={`${cards.length} tasks`}>
                  {cards.length}
                </span>
              </header>
              <p className="column-hint">{column.hint}</p>
              {cards.length === 0 ? (
                <p className="column-empty">Nothing here</p>
              ) : (
                <ul className="cards">
                  {cards.map((task) => (
                    <li key={task.id}>
                      <TaskCard task={task} asks={asks.get(task.id) ?? 0} now={now} showStatus={column.statuses.length > 1} />
                    </li>
                  ))}
                </ul>
              )}
            </section>
          );
        })}
      </div>
    </section>
  );
}
