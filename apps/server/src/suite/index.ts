/** `kodo suite run`: the 15-case dogfood suite (docs/suite.md). */
export { runSuite, selectCases, type SuiteOptions, type SuiteReport } from "./run-suite.js";
export { CASES, CASE_IDS, STAGES, FAILURE_CODES, isCaseId, isStage, type CaseId, type Stage, type SuiteCase, type FailureCode } from "./cases.js";
export { CaseResultSchema, RunSummarySchema, suiteJsonSchemas, type CaseResult, type RunSummary } from "./schemas.js";
export { SUITE_ASSETS, SUITE_MODEL_SCRIPT, WRITE_ALLOWLIST, DELETION_ALLOWLIST } from "./policy.js";
