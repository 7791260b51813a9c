import { DBOS } from "@dbos-inc/dbos-sdk";
import type { RetryContext, TaskStatus } from "@kodo/contracts";
import { steps } from "./steps/index.js";
import type { PlanDecision } from "../store/plan-approvals.js";

/** The topic on which the API sends a run its plan decision. */
export const PLAN_DECISION_TOPIC = "plan-decision";
/** How long one durable wait lasts before the workflow re-reads the decision from the database. */
const DECISION_POLL_SECONDS = 3600;

export interface RunOutcome {
  status: TaskStatus;
  code: string | null;
}

/**
 * The life of one task run, as plain control flow. Deterministic: every side effect (database,
 * git, OpenCode, the clock) happens inside a named step; this function only decides.
 */
async function runTask(runId: string): Promise<RunOutcome> {
  const start = await steps.startRun(runId);
  // A run ended elsewhere (cancelled before it was picked up) stays ended.
  if (["Done", "Failed", "Rejected", "Cancelled"].includes(start.status)) return { status: start.status, code: null };
  await steps.setStatus(runId, "Planning", "run started");

  const workspace = await steps.prepareWorkspace(runId);
  if (!workspace.ok) return fail(runId, workspace.code, workspace.message);

  const plan = await steps.compilePlan(runId);
  if (!plan.ok) return fail(runId, plan.code, plan.message);
  await steps.setStatus(runId, "PlanningReview", "plan ready for review");

  const decision =
    start.planApproval === "auto"
      ? await steps.approvePlanAutomatically(runId)
      : await waitForPlanDecision(runId, start.decisionDeadlineEpochMs);
  if (decision === null) return fail(runId, "PLAN_DECISION_TIMEOUT", "nobody approved or rejected the plan before its deadline");
  if (decision.kind === "rejected") {
    await steps.setStatus(runId, "Rejected", decision.reason);
    await steps.writeEvidence(runId);
    return { status: "Rejected", code: null };
  }
  await steps.setStatus(runId, "InProgress", `plan approved by ${decision.decidedBy}`);

  // Build → test → fix: every attempt is built, then verified; red goes back to InProgress with
  // what failed, until green, the attempts run out, or the test budget is spent.
  // The task's budget may allow fewer build attempts than its verification settings.
  const verifyAttempts = start.verify?.maxAttempts ?? 1;
  const budgetAttempts = start.budget.maxBuildAttempts;
  const maxAttempts = budgetAttempts === undefined ? verifyAttempts : Math.min(verifyAttempts, budgetAttempts);
  let retry: RetryContext | null = null;
  let summary = "";
  for (let attempt = 1; ; attempt += 1) {
    const built = await steps.build(runId, attempt, retry);
    if (!built.ok) return fail(runId, built.code, built.message);
    summary = built.value.summary;
    await steps.setStatus(runId, "AiReview", attempt === 1 ? "build finished" : `build attempt ${attempt} finished`);
    if (start.verify === null) break;

    const verified = await steps.verify(runId, attempt);
    if (!verified.ok) return fail(runId, verified.code, verified.message);
    const test = verified.value;
    if (test.class === "PASSED") break;
    if (test.budgetExhausted) return fail(runId, test.class, `${test.reason} (the test budget is spent)`);
    if (attempt >= maxAttempts) {
      if (maxAttempts < verifyAttempts) return fail(runId, "BUDGET_EXCEEDED", `${test.class}: ${test.reason} (the budget allows ${maxAttempts} build attempts)`);
      return fail(runId, test.class, `${test.reason} (${attempt} of ${maxAttempts} attempts used)`);
    }
    retry = test.retryContext;
    await steps.setStatus(runId, "InProgress", `${test.class}: ${test.reason}; build attempt ${attempt + 1} of ${maxAttempts}`);
  }

  const reviewed = await steps.review(runId, summary);
  if (!reviewed.ok) return fail(runId, reviewed.code, reviewed.message);

  const finished = await steps.finish(runId);
  if (!finished.ok) return fail(runId, finished.code, finished.message);
  await steps.setStatus(runId, "Done", finished.value.commit === null ? "no changes" : `committed ${finished.value.commit.slice(0, 12)}`);
  await steps.writeEvidence(runId);
  return { status: "Done", code: null };
}

/**
 * The plan-approval gate: a durable wait (it survives restarts). The decision row in the
 * database is the truth; the message only wakes the workflow, so a lost message costs at most
 * one poll interval.
 */
async function waitForPlanDecision(runId: string, deadlineEpochMs: number): Promise<PlanDecision | null> {
  for (;;) {
    const recorded = await steps.readPlanDecision(runId);
    if (recorded !== null) return recorded;
    const now = await steps.nowEpochMs();
    if (now >= deadlineEpochMs) return null;
    const waitSeconds = Math.max(1, Math.min(DECISION_POLL_SECONDS, Math.ceil((deadlineEpochMs - now) / 1000)));
    await DBOS.recv<{ runId: string }>(PLAN_DECISION_TOPIC, { timeoutSeconds: waitSeconds });
  }
}

async function fail(runId: string, code: string, message: string): Promise<RunOutcome> {
  await steps.setStatus(runId, "Failed", `${code}: ${message}`, { code, message });
  await steps.writeEvidence(runId);
  return { status: "Failed", code };
}

export const runTaskWorkflow = DBOS.registerWorkflow(runTask, { name: "RunTask" });
