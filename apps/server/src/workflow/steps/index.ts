import { DBOS } from "@dbos-inc/dbos-sdk";
import * as run from "./run-steps.js";
import { writeEvidence } from "./evidence-step.js";
import { shouldRetry } from "./outcome.js";

/**
 * The step registry. A step's name is its identity in recovery: never rename one.
 * Agent steps retry retryable failures (OpenCode restarted, a connection dropped); the ledger
 * makes the retry safe (a completed model call is never sent again).
 */
const io = { retriesAllowed: true, maxAttempts: 3, intervalSeconds: 1, backoffRate: 2, shouldRetry } as const;
const agentIo = { retriesAllowed: true, maxAttempts: 3, intervalSeconds: 2, backoffRate: 2, shouldRetry } as const;

export const steps = {
  startRun: DBOS.registerStep(run.startRun, { name: "StartRun", ...io }),
  setStatus: DBOS.registerStep(run.setStatus, { name: "SetStatus", ...io }),
  prepareWorkspace: DBOS.registerStep(run.prepareWorkspace, { name: "PrepareWorkspace", ...io }),
  compilePlan: DBOS.registerStep(run.compilePlan, { name: "CompilePlan", ...agentIo }),
  nowEpochMs: DBOS.registerStep(run.nowEpochMs, { name: "Now" }),
  readPlanDecision: DBOS.registerStep(run.readPlanDecision, { name: "ReadPlanDecision", ...io }),
  approvePlanAutomatically: DBOS.registerStep(run.approvePlanAutomatically, { name: "ApprovePlanAutomatically", ...io }),
  build: DBOS.registerStep(run.build, { name: "Build", ...agentIo }),
  verify: DBOS.registerStep(run.verify, { name: "Verify", ...io }),
  review: DBOS.registerStep(run.review, { name: "Review", ...io }),
  finish: DBOS.registerStep(run.finish, { name: "Finish", ...io }),
  writeEvidence: DBOS.registerStep(writeEvidence, { name: "WriteEvidence" }),
};
