/**
 * One line per thing that happened to a run, the same whether it comes live from the event
 * stream (`kodo logs --follow`, `kodo task run --wait`) or from a stored run (`kodo logs`).
 */
import type { ActivityItem, KodoEvent, Run, StoredEvent } from "@kodo/contracts";
import { clock, truncate } from "./format.js";

const SNIPPET = 100;

function text(data: Record<string, unknown>, key: string): string | undefined {
  const value = data[key];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** The title of a tool call, if the activity data carries one (`title` or `state.title`). */
function toolTitle(data: Record<string, unknown>): string | undefined {
  const state = data["state"];
  const nested = typeof state === "object" && state !== null ? text(state as Record<string, unknown>, "title") : undefined;
  return text(data, "title") ?? nested;
}

function toolState(data: Record<string, unknown>): string | undefined {
  const state = data["state"];
  if (typeof state === "string") return state;
  return typeof state === "object" && state !== null ? text(state as Record<string, unknown>, "status") : undefined;
}

/** One line for a session activity item; undefined for items not worth a line (empty text, a pending tool call, a message still streaming). */
export function summarizeActivity(item: ActivityItem): string | undefined {
  const { data } = item;
  switch (item.kind) {
    case "tool": {
      const state = toolState(data);
      if (state === "pending") return undefined; // it is running a moment later
      const title = toolTitle(data);
      return [`tool ${text(data, "tool") ?? "?"}`, state, title === undefined ? undefined : `"${truncate(title, SNIPPET)}"`]
        .filter((part) => part !== undefined)
        .join(" ");
    }
    case "text": {
      const body = text(data, "text");
      return body === undefined ? undefined : `text "${truncate(body, SNIPPET)}"`;
    }
    case "reasoning": {
      const body = text(data, "text");
      return body === undefined ? undefined : `thinking "${truncate(body, SNIPPET)}"`;
    }
    case "message": {
      const role = text(data, "role") ?? "?";
      const error = data["error"];
      if (typeof error === "object" && error !== null) {
        const message = text(error as Record<string, unknown>, "message") ?? text(error as Record<string, unknown>, "name") ?? "error";
        return `message ${role} failed: ${truncate(message, SNIPPET)}`;
      }
      if (role === "user") return "message user";
      if (data["completed"] !== true) return undefined;
      const finish = text(data, "finish");
      return `message ${role} done${finish === undefined ? "" : ` (${finish})`}`;
    }
    case "permission": {
      const patterns = Array.isArray(data["patterns"]) ? data["patterns"].filter((value) => typeof value === "string") : [];
      return `permission ${text(data, "permission") ?? "?"}${patterns.length === 0 ? "" : ` ${truncate(patterns.join(", "), SNIPPET)}`}`;
    }
    case "error":
      return `error ${text(data, "name") ?? "?"}: ${truncate(text(data, "message") ?? "", SNIPPET)}`;
    default:
      return item.kind;
  }
}

/**
 * Activity items are updated in place (a tool call goes pending → running → completed), so the
 * stream repeats them. This prints an item again only when its line changes.
 */
export class ActivityLines {
  readonly #last = new Map<string, string>();

  line(item: ActivityItem): string | undefined {
    const summary = summarizeActivity(item);
    if (summary === undefined) return undefined;
    const key = `${item.sessionId}/${item.itemId}`;
    if (this.#last.get(key) === summary) return undefined;
    this.#last.set(key, summary);
    return summary;
  }
}

function line(at: string, label: string, body: string): string {
  return `${clock(at)}  ${label.padEnd(7)} ${body}`.trimEnd();
}

/** The body of an event's line (without time and label), or undefined when it adds nothing. */
function describe(event: KodoEvent, activity: ActivityLines): { label: string; body: string } | undefined {
  switch (event.type) {
    case "task.created":
      return { label: "task", body: `created "${event.title}"` };
    case "task.status_changed":
      return { label: "status", body: `${event.from ?? "-"} → ${event.to}${event.reason === null ? "" : `  ${event.reason}`}` };
    case "session.started":
      return { label: "session", body: `started ${event.sessionId}` };
    case "session.activity": {
      const body = activity.line(event.item);
      return body === undefined ? undefined : { label: "agent", body };
    }
    case "plan.decided":
      return { label: "plan", body: `${event.decision}${event.reason === null ? "" : `: ${event.reason}`}` };
    case "model.call_completed":
      return { label: "model", body: `${event.stepId}  in ${event.tokensInput}  out ${event.tokensOutput}  $${event.costUsd.toFixed(4)}` };
    case "run.cancel_requested":
      return { label: "cancel", body: "requested" };
    case "approval.requested": {
      const what = event.kind === "question" ? "a question" : `${event.permission ?? "?"}${event.patterns.length === 0 ? "" : ` ${truncate(event.patterns.join(", "), SNIPPET)}`}`;
      return { label: "ask", body: `${what}  waits for you until ${clock(event.deadlineAt)}: kodo answer ${event.approvalId} once|always|reject` };
    }
    case "approval.answered": {
      const how = event.expired ? " (expired)" : event.byDeadline ? " (deadline)" : "";
      return { label: "ask", body: `${event.approvalId} ${event.decision} by ${event.answeredBy}${how}` };
    }
    case "plan.vote_recorded":
      return { label: "plan", body: `${event.approver} voted ${event.vote} (${event.approvals} of ${event.required} approvals, ${event.rejections} rejections)` };
    case "proposal.created":
      return { label: "govern", body: `${event.proposalId} ${event.kind} proposed by ${event.createdBy} (${event.required} of ${event.approvers.length} approvers)` };
    case "proposal.voted":
      return { label: "govern", body: `${event.proposalId} ${event.approver} ${event.amended ? "amended their" : "voted"} ${event.vote} (${event.approvals} approvals, ${event.rejections} rejections)` };
    case "proposal.activated":
      return { label: "govern", body: `${event.proposalId} ${event.kind} active (version ${event.version})${event.superseded === null ? "" : `, supersedes ${event.superseded}`}` };
    case "proposal.rejected":
      return { label: "govern", body: `${event.proposalId} ${event.kind} rejected: ${event.reason}` };
    default: {
      const unknown: never = event;
      return { label: "event", body: JSON.stringify(unknown) };
    }
  }
}

export function formatEvent(stored: StoredEvent, activity: ActivityLines): string | undefined {
  const described = describe(stored.event, activity);
  return described === undefined ? undefined : line(stored.at, described.label, described.body);
}

/** A stored run and its session's activity as one time-ordered list of lines. */
export function runTimeline(run: Run, activity: readonly ActivityItem[]): string[] {
  const entries: { at: string; label: string; body: string }[] = [];
  for (const change of run.history) {
    entries.push({ at: change.at, label: "status", body: `${change.from ?? "-"} → ${change.to}${change.reason === null ? "" : `  ${change.reason}`}` });
  }
  if (run.planApprovedAt !== null) entries.push({ at: run.planApprovedAt, label: "plan", body: "approved" });
  for (const call of run.modelCalls) {
    entries.push({
      at: call.createdAt,
      label: "model",
      body: `${call.stepId}#${call.attempt} ${call.status}  in ${call.tokensInput}  out ${call.tokensOutput}  $${call.costUsd.toFixed(4)}`,
    });
  }
  const lines = new ActivityLines();
  for (const item of activity) {
    const body = lines.line(item);
    if (body !== undefined) entries.push({ at: item.updatedAt, label: "agent", body });
  }
  // A stable sort keeps same-instant entries in the order above.
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return entries.map((entry) => line(entry.at, entry.label, entry.body));
}
