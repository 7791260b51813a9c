/** The policy engine: `@kodo/server/policy` (a light subpath: no database, no OpenCode). */
export { REASON_CODES, ReasonCodeSchema, type ReasonCode } from "./codes.js";
export { PolicySchema, RuleSchema, ConditionSchema, type Policy, type Rule, type Condition, type Effect } from "./schema.js";
export { loadPolicy, parsePolicy, formatOf, type PolicyFormat, type PolicyProblem } from "./load.js";
export { DEFAULT_RULES } from "./defaults.js";
export { resolvePolicy } from "./layers.js";
export { evaluate } from "./evaluate.js";
export { runFixtures, type FixtureResult, type FixtureReport } from "./fixtures.js";
export type { PolicyContext, PolicyDecision, PolicyRequest, ResolvedPolicy, LayeredRule, PolicyLayer } from "./types.js";
