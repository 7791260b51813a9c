export { startKodo, type Kodo, type StartOptions } from "./kodo.js";
export { runDemo, type DemoOptions, type DemoResult } from "./demo/run-demo.js";
export { runSuite, selectCases, CASES, CASE_IDS, STAGES, isCaseId, type CaseId, type Stage, type SuiteOptions, type SuiteReport } from "./suite/index.js";
export { runDoctor, type CheckResult, type CheckStatus, type DoctorOptions, type DoctorReport } from "./doctor/index.js";
export { loadConfig, homePaths, type KodoConfig, type HomePaths, type ModelConfig } from "./config.js";
export { KodoError, isKodoError, describeError, type ErrorCode } from "./lib/errors.js";
export { loadScript, parseScript } from "./model/scripted/script.js";
export { startScriptedModelServer, type ScriptedModelServer } from "./model/scripted/server.js";
export { checkTestTarget, checkPathWithinRoot, type ScopeDecision, type ScopeCode } from "./verify/scope.js";
