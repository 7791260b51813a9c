import type { TaskStatus } from "@kodo/contracts";

/**
 * The life of a run. `Todo → Planning → PlanningReview → InProgress → AiReview → Done`, and from
 * any live status to `Failed` or `Cancelled`; `Rejected` only from `PlanningReview`.
 * Terminal statuses never change again.
 */
const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  Todo: ["Planning", "Failed", "Cancelled"],
  Planning: ["PlanningReview", "Failed", "Cancelled"],
  PlanningReview: ["InProgress", "Rejected", "Failed", "Cancelled"],
  InProgress: ["AiReview", "Failed", "Cancelled"],
  AiReview: ["Done", "InProgress", "Failed", "Cancelled"],
  Done: [],
  Failed: [],
  Rejected: [],
  Cancelled: [],
};

export type TransitionCheck =
  | { kind: "ok" }
  | { kind: "same" }
  | { kind: "refused"; reason: string };

export function checkTransition(from: TaskStatus, to: TaskStatus): TransitionCheck {
  if (from === to) return { kind: "same" };
  if (NEXT[from].includes(to)) return { kind: "ok" };
  return { kind: "refused", reason: `a run cannot go from ${from} to ${to}` };
}
