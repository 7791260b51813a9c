/** `kodo ci run`: `@kodo/server/ci`. */
export { runCi, type CiOptions, type CiResult } from "./run-ci.js";
export { loadTaskFile, CiTaskFile, type LoadedTaskFile } from "./task-file.js";
export { CI_EXIT_CODES, DENIED_BY_POLICY_CODES, INFRASTRUCTURE_CODES, classifyRun, classifyCode, classifySetupError, type CiExitCode, type CiStatus, type CiVerdict } from "./outcome.js";
export { junitReport } from "./junit.js";
