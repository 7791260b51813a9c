import { z } from "zod";

export const TaskStatus = z.enum([
  "Todo",
  "Planning",
  "PlanningReview",
  "InProgress",
  "AiReview",
  "Done",
  "Failed",
  "Rejected",
  "Cancelled",
]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["Done", "Failed", "Rejected", "Cancelled"];
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
