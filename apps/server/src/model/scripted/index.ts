/** The scripted model: a deterministic OpenAI-compatible model server driven by a script file. */
export { loadScript, parseScript, scriptSchema, DEFAULT_RULE_NAME } from "./script.js";
export type { Script, ScriptReply, ScriptRule, ScriptToolCall, ScriptWhen } from "./script.js";
export { matchRule, requestFacts, type RequestFacts, type RuleMatch } from "./match.js";
export { startScriptedModelServer, DEFAULT_MODEL_ID } from "./server.js";
export type { ScriptedModelServer, ScriptedModelServerOptions } from "./server.js";
export type { ScriptLogEntry, ScriptStats } from "./stats.js";
