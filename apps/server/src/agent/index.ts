/** The OpenCode seam: one supervised server per kodo home, and the AgentRuntime port over it. */
export { startOpenCodeServer, type OpenCodeServer, type OpenCodeServerOptions, type RestartInfo, type ServerState } from "./server-supervisor.js";
export {
  createOpenCodeRuntime,
  type AgentRuntime,
  type AgentName,
  type OpenCodeRuntime,
  type OpenCodeRuntimeOptions,
  type PromptOptions,
  type PromptResult,
  type RuntimeServer,
} from "./runtime.js";
export type { SessionMessage, TokenUsage } from "./session-messages.js";
export { buildPermissions, planPermissions, KNOWN_PERMISSIONS, type PermissionRule, type PermissionAction } from "./permissions.js";
export type { AgentEvent, AgentEventListener, AgentError } from "./event-types.js";
export type { AgentEventStream } from "./events.js";
export type { CleanupReport } from "./server-cleanup.js";
export {
  PermissionBridge,
  askEveryTime,
  type BridgeAsk,
  type BridgeDecision,
  type BridgeServer,
  type DecidePermission,
  type PermissionBridgeOptions,
} from "./permission-bridge.js";
