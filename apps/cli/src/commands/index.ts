import type { Command } from "./command.js";
import { answer, approvals } from "./approvals.js";
import { demo } from "./demo.js";
import { suiteRun } from "./suite-run.js";
import { doctor } from "./doctor.js";
import { ciRun } from "./ci-run.js";
import { verify } from "./verify.js";
import { governanceSet, governanceShow } from "./governance.js";
import { proposals, vote } from "./proposals.js";
import { proposeCapability, proposeGovernance, proposePolicy, proposeWriteAllowlist } from "./propose.js";
import { logs } from "./logs.js";
import { modelServe } from "./model-serve.js";
import { approve, reject } from "./plan-decision.js";
import { policyCheck } from "./policy-check.js";
import { policyCheckPath } from "./policy-check-path.js";
import { policyTest } from "./policy-test.js";
import { repoSettings } from "./repo-settings.js";
import { serve } from "./serve.js";
import { studio } from "./studio.js";
import { taskCancel } from "./task-cancel.js";
import { taskCreate } from "./task-create.js";
import { taskList } from "./task-list.js";
import { taskRun } from "./task-run.js";
import { taskShow } from "./task-show.js";

/** Every command, in the order `kodo --help` lists them. */
export const COMMANDS: readonly Command[] = [serve, studio, demo, suiteRun, doctor, modelServe, taskCreate, taskList, taskShow, taskRun, taskCancel, approve, reject, approvals, answer, logs, policyCheckPath, policyCheck, policyTest, repoSettings, governanceSet, governanceShow, proposePolicy, proposeWriteAllowlist, proposeCapability, proposeGovernance, proposals, vote, ciRun, verify];
