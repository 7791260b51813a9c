import type { ReactNode } from "react";
import type { TaskStatus } from "@kodo/contracts";
import { STATUS_LABELS } from "../lib/format.js";

export function StatusBadge(props: { status: TaskStatus }): ReactNode {
  return (
    <span className={`badge status-${props.status}`} data-status={props.status}>
      {STATUS_LABELS[props.status]}
    </span>
  );
}
