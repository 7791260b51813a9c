import type { ReactNode } from "react";
import type { Task } from "@kodo/contracts";
import { ago, baseName, usageLine } from "../lib/format.js";
import { followLink } from "../lib/router.js";
import { StatusBadge } from "../ui/status-badge.js";

export function TaskCard(props: { task: Task; asks: number; now: number; showStatus: boolean }): ReactNode {
  const { task } = props;
  const calls = task.usage.calls;
  return (
    <a className="card" href={`/tasks/${task.id}`} onClick={followLink} data-task-id={task.id} data-status={task.status}>
      <span className="card-title">{task.title}</span>
      <span className="card-repo" title={task.repoPath}>
        {baseName(task.repoPath)}
      </span>
      <span className="card-flags">
        {props.showStatus ? <StatusBadge status={task.status} /> : null}
        {task.status === "PlanningReview" ? <span className="flag flag-attention">plan waits for you</span> : null}
        {props.asks > 0 ? <span className="flag flag-attention">{props.asks === 1 ? "1 ask waits" : `${props.asks} asks wait`}</span> : null}
        {task.planApproval === "auto" ? <span className="flag">auto-approve</span> : null}
        {task.verify !== null ? <span className="flag">tests</span> : null}
      </span>
      <span className="card-meta">
        <span>{ago(task.updatedAt, props.now)}</span>
        {calls > 0 ? <span>{usageLine(task.usage)}</span> : null}
      </span>
    </a>
  );
}
