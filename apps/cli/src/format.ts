/** Human output of tasks and runs: plain lines, no colour, stable enough to grep. */
import type { Run, Task, Usage } from "@kodo/contracts";

/** HH:MM:SS in local time; the input is an ISO timestamp. */
export function clock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":");
}

/** `YYYY-MM-DD HH:MM` in local time. */
export function dateTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (value: number): string => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function formatUsage(usage: Usage): string {
  const calls = `${usage.calls} model call${usage.calls === 1 ? "" : "s"}`;
  return `${calls}, ${usage.tokensInput} input + ${usage.tokensOutput} output tokens, $${usage.costUsd.toFixed(4)}`;
}

export function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join("  "));
}

export function formatTaskTable(tasks: readonly Task[]): string[] {
  if (tasks.length === 0) return ["no tasks"];
  return columns([
    ["ID", "STATUS", "UPDATED", "TITLE"],
    ...tasks.map((task) => [task.id, task.status, dateTime(task.updatedAt), truncate(task.title, 60)]),
  ]);
}

export function formatTask(task: Task): string[] {
  return [
    `task ${task.id}  ${task.status}  "${task.title}"`,
    `  repository     ${task.repoPath} @ ${task.baseRef}`,
    `  plan approval  ${task.planApproval}`,
    `  current run    ${task.currentRunId ?? "-"}`,
    `  usage          ${formatUsage(task.usage)}`,
    `  created        ${dateTime(task.createdAt)}, updated ${dateTime(task.updatedAt)}`,
  ];
}

export function formatPlan(plan: NonNullable<Run["plan"]>): string[] {
  const list = (title: string, items: readonly string[]): string[] => (items.length === 0 ? [] : [`  ${title}:`, ...items.map((item) => `    - ${item}`)]);
  return [
    `plan: ${plan.summary}`,
    ...plan.steps.map((step, index) => `  ${index + 1}. ${step}`),
    ...list("files", plan.files),
    ...list("risks", plan.risks),
    ...list("tests", plan.tests),
  ];
}

export function formatHistory(run: Run): string[] {
  return run.history.map((change) => `  ${clock(change.at)}  ${(change.from ?? "-").padEnd(14)} → ${change.to.padEnd(14)} ${change.reason ?? ""}`.trimEnd());
}

export function formatRun(run: Run): string[] {
  const lines = [
    `run ${run.id}  ${run.status}`,
    `  branch         ${run.branch ?? "-"}`,
    `  worktree       ${run.worktreePath ?? "-"}`,
    `  commits        ${run.baseCommit?.slice(0, 12) ?? "-"} → ${run.headCommit?.slice(0, 12) ?? "-"}`,
    `  session        ${run.sessionId ?? "-"}`,
    `  usage          ${formatUsage(run.usage)}`,
  ];
  if (run.error !== null) lines.push(`  error          ${run.error.code}: ${run.error.message}`);
  if (run.plan !== null) {
    lines.push("", ...formatPlan(run.plan));
    lines.push(run.planApprovedAt === null ? "  (not approved)" : `  approved ${dateTime(run.planApprovedAt)}`);
  }
  if (run.history.length > 0) lines.push("", "history:", ...formatHistory(run));
  if (run.attempts.some((attempt) => attempt.test !== null)) lines.push("", "attempts:", ...formatAttempts(run));
  if (run.review !== null) {
    const { stat } = run.review;
    lines.push("", `changed files (${stat.files}, +${stat.insertions} −${stat.deletions}):`);
    lines.push(...columns(run.review.files.map((file) => [`  ${file.status}`, file.path, `+${file.insertions} −${file.deletions}`])));
    if (run.review.summary !== "") lines.push(`  ${truncate(run.review.summary, 200)}`);
  }
  if (run.artifacts.length > 0) {
    lines.push("", "artifacts:", ...columns(run.artifacts.map((artifact) => ["  " + artifact.kind, artifact.path, `${artifact.bytes} bytes`])));
  }
  if (run.evidencePath !== null) lines.push("", `evidence: ${run.evidencePath}  (check it: kodo verify ${run.evidencePath})`);
  return lines;
}

/** One line per build attempt with its test result, then the failed tests (at most 5 each). */
export function formatAttempts(run: Run): string[] {
  const lines: string[] = [];
  for (const attempt of run.attempts) {
    const test = attempt.test;
    if (test === null) {
      lines.push(`  #${attempt.attempt}  not tested`);
      continue;
    }
    const { passed, failed, errors, skipped } = test.counts;
    const sandbox = test.sandboxed ? "" : "  (unsandboxed)";
    lines.push(`  #${attempt.attempt}  ${test.class.padEnd(21)} ${passed} passed, ${failed} failed, ${errors} errors, ${skipped} skipped  ${(test.durationMs / 1000).toFixed(1)} s${sandbox}`);
    for (const failure of test.failed.slice(0, 5)) lines.push(`        ✗ ${truncate(failure.id, 100)}: ${truncate(failure.message.replace(/\s+/g, " "), 120)}`);
  }
  return lines;
}

export function decisionHint(runId: string): string {
  return `the plan waits for a decision: kodo approve ${runId}   or   kodo reject ${runId} --reason "…"`;
}

/** What to do next, given where a run stands. */
export function nextStep(run: Run): string | undefined {
  switch (run.status) {
    case "PlanningReview":
      return decisionHint(run.id);
    case "Done":
      return run.worktreePath === null ? undefined : `the change is in ${run.worktreePath} (branch ${run.branch ?? "-"})`;
    default:
      return undefined;
  }
}
