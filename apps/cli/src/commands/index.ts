import type { Command } from "./command.js";
import { demo } from "./demo.js";
import { logs } from "./logs.js";
import { modelServe } from "./model-serve.js";
import { approve, reject } from "./plan-decision.js";
import { policyCheck } from "./policy-check.js";
import { policyCheckPath } from "./policy-check-path.js";
import { policyTest } from "./policy-test.js";
import { repoSettings } from "./repo-settings.js";
import { serve } from "./serve.js";
import { taskCancel } from "./task-cancel.js";
import { taskCreate } from "./task-create.js";
import { taskList } from "./task-list.js";
import { taskRun } from "./task-run.js";
import { taskShow } from "./task-show.js";

/** Every command, in the order `kodo --help` lists them. */
export const COMMANDS: readonly Command[] = [serve, demo, modelServe, taskCreate, taskList, taskShow, taskRun, taskCancel, approve, reject, logs, policyCheckPath, policyCheck, policyTest, repoSettings];
