import type { Plan } from "@kodo/contracts";

/**
 * The texts kodo sends to agents. Pure functions of durable state, so a re-executed step sends
 * byte-identical prompts (and so computes the same op_key). The `KODO-PHASE:` marker lets a
 * scripted model (and a human reading the ledger) tell the phases apart.
 */
export function planPrompt(task: { title: string; prompt: string }, retry?: { attempt: number; problem: string }): string {
  const lines = [
    "KODO-PHASE: plan",
    "You are planning a change to the repository in your working directory. Read what you need; do not modify anything.",
    "",
    `Task: ${task.title}`,
    "",
    task.prompt,
    "",
    "Answer with the structured output: summary (one paragraph), steps (ordered), files (paths you will create or change),",
    "risks, and tests (how the change will be verified).",
  ];
  if (retry !== undefined) {
    lines.push("", `Attempt ${retry.attempt}: your previous answer was not a valid plan (${retry.problem}). Answer again with the structured output only.`);
  }
  return lines.join("\n");
}

export function buildPrompt(task: { title: string; prompt: string }, plan: Plan): string {
  return [
    "KODO-PHASE: build",
    "Implement the approved plan below in your working directory. Change only files inside it.",
    "Do not run git commands that change history or delete work (no reset, clean, checkout, push).",
    "",
    `Task: ${task.title}`,
    "",
    task.prompt,
    "",
    "Approved plan:",
    `Summary: ${plan.summary}`,
    ...plan.steps.map((step, index) => `${index + 1}. ${step}`),
    plan.files.length > 0 ? `Files: ${plan.files.join(", ")}` : "Files: (none named)",
    plan.tests.length > 0 ? `Tests: ${plan.tests.join("; ")}` : "Tests: (none named)",
    "",
    "When you are done, reply with a short summary of what you changed.",
  ].join("\n");
}

/** AGENTS.md for the run's worktree: the task, the plan once approved, and the rules. */
export function agentInstructions(task: { title: string; prompt: string }, runId: string, plan: Plan | undefined): string {
  return [
    "# Instructions from kodo",
    "",
    `This worktree belongs to kodo run ${runId}. It is generated; it is not part of the repository.`,
    "",
    "## Task",
    "",
    `**${task.title}**`,
    "",
    task.prompt,
    "",
    ...(plan === undefined
      ? ["## Plan", "", "No plan is approved yet: you are in the planning phase and must not change any file.", ""]
      : ["## Approved plan", "", plan.summary, "", ...plan.steps.map((step, index) => `${index + 1}. ${step}`), ""]),
    "## Rules",
    "",
    "- Work only inside this directory.",
    "- Never delete or rewrite work you did not create; never run destructive git commands.",
    "- Do not start background processes that outlive your command.",
    "",
  ].join("\n");
}

/** The prompt of a build attempt after the tests failed: the plan again, plus what went wrong. */
export function fixPrompt(task: { title: string; prompt: string }, plan: Plan, attempt: number, retryContext: string): string {
  return [
    "KODO-PHASE: build",
    `KODO-ATTEMPT: ${attempt}`,
    "The tests failed after your previous attempt. Fix the code in your working directory so that they pass.",
    "",
    retryContext,
    "",
    "Change only files inside your working directory. Do not weaken or delete the tests unless they are wrong.",
    "",
    `Task: ${task.title}`,
    "",
    task.prompt,
    "",
    `Approved plan: ${plan.summary}`,
    "",
    "When you are done, reply with a short summary of what you changed.",
  ].join("\n");
}
