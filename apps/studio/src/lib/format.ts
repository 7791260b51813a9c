/** Numbers, times and paths, the way the board shows them. */
import type { TaskStatus, Usage } from "@kodo/contracts";

export const STATUS_LABELS: Readonly<Record<TaskStatus, string>> = {
  Todo: "To do",
  Planning: "Planning",
  PlanningReview: "Plan review",
  InProgress: "In progress",
  AiReview: "AI review",
  Done: "Done",
  Failed: "Failed",
  Rejected: "Rejected",
  Cancelled: "Cancelled",
};

export function tokens(count: number): string {
  if (count < 1000) return String(count);
  if (count < 1_000_000) return `${(count / 1000).toFixed(count < 10_000 ? 1 : 0)}k`;
  return `${(count / 1_000_000).toFixed(1)}M`;
}

export function cost(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function usageLine(usage: Usage): string {
  return `${tokens(usage.tokensInput + usage.tokensOutput + usage.tokensReasoning)} tokens · ${cost(usage.costUsd)}`;
}

export function bytes(count: number): string {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function clock(iso: string): string {
  return timeFormat.format(new Date(iso));
}

export function dateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

/** "12 s ago", "5 min ago", "3 h ago", else the date. */
export function ago(iso: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return dateTime(iso);
}

/** A countdown: "4:59", "1:02:03"; "0:00" once passed. */
export function remaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function baseName(filePath: string): string {
  const parts = filePath.split("/").filter((part) => part !== "");
  return parts[parts.length - 1] ?? filePath;
}
