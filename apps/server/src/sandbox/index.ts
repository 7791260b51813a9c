export { runSandboxed, probeSandbox } from "./launcher.js";
export type { CapturedOutput, SandboxProbe, SandboxResult, SandboxSpec } from "./launcher.js";
export { BWRAP_ENV } from "./bwrap-path.js";
export { RUN_MARKER_ENV } from "./process-sweep.js";
export { prepareServiceSandbox, type ServiceSandbox, type ServiceSandboxSpec } from "./service-sandbox.js";
