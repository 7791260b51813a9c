/**
 * The agent the suite drives: kodo's supervised OpenCode server (in the agent sandbox, as
 * `kodo serve` runs it), sessions whose permission rules come from the suite's policy, and the
 * unattended policy answerer for every ask. The model is the configured endpoint
 * (KODO_MODEL_BASE_URL …) or, offline, the scripted model with the shipped suite script.
 */
import path from "node:path";
import type { KodoConfig } from "../config.js";
import { chooseAgentSandbox, describeAgentSandbox } from "../agent/agent-sandbox.js";
import { PolicyAnswerer, type UnattendedAnswer } from "../agent/policy-answerer.js";
import { agentPermissionRules, decidePermission, type AgentKind } from "../agent/policy-permissions.js";
import { promptNamingModel, registeredModels, serverHealth } from "../agent/probes.js";
import { createOpenCodeRuntime, type PromptResult } from "../agent/runtime.js";
import { startOpenCodeServer, type OpenCodeServer } from "../agent/server-supervisor.js";
import { PROVIDER_ID } from "../agent/opencode-config.js";
import { loadScript, type Script } from "../model/scripted/script.js";
import { DEFAULT_MODEL_ID, startScriptedModelServer, type ScriptedModelServer } from "../model/scripted/server.js";
import type { ResolvedPolicy } from "../policy/types.js";
import { policyContext, SUITE_MODEL_SCRIPT } from "./policy.js";

export interface SuiteModel {
  baseUrl: string;
  apiKey: string;
  /** the model id as the endpoint knows it (OpenCode knows it as `kodo/<model>`) */
  model: string;
  /** "scripted" (offline, the shipped script) or "endpoint" (the configured one) */
  kind: "scripted" | "endpoint";
  /** model requests so far (the scripted model counts them; undefined for an endpoint) */
  requests(): number | undefined;
  close(): Promise<void>;
}

/** The scripted model answers when no endpoint is configured, when asked to (offline), or when given a script. */
export function usesScriptedModel(o: { config: KodoConfig; offline: boolean; script?: Script | undefined }): boolean {
  return o.config.model === undefined || o.offline || o.script !== undefined;
}

/** The id the suite's model has at its endpoint (before OpenCode's `kodo/` prefix). */
export function suiteModelId(o: { config: KodoConfig; offline: boolean; script?: Script | undefined }): string {
  return usesScriptedModel(o) || o.config.model === undefined ? DEFAULT_MODEL_ID : o.config.model.model;
}

/** The configured endpoint, or the scripted model (offline, or when none is configured). */
export async function startSuiteModel(o: { config: KodoConfig; offline: boolean; script?: Script | undefined }): Promise<SuiteModel> {
  const configured = o.config.model;
  if (configured !== undefined && !usesScriptedModel(o)) {
    return { baseUrl: configured.baseUrl, apiKey: configured.apiKey, model: configured.model, kind: "endpoint", requests: () => undefined, close: async () => undefined };
  }
  const server: ScriptedModelServer = await startScriptedModelServer({ script: o.script ?? loadScript(SUITE_MODEL_SCRIPT) });
  return {
    baseUrl: server.url,
    apiKey: "offline",
    model: DEFAULT_MODEL_ID,
    kind: "scripted",
    requests: () => server.stats().requests,
    close: () => server.close(),
  };
}

export interface SuiteAgent {
  readonly providerId: string;
  readonly modelId: string;
  /** "sandboxed (…)" or "UNSANDBOXED" */
  readonly confinement: string;
  health(): Promise<{ healthy: boolean; version: string }>;
  /** a session whose rules the suite's policy gives `rules` (plan: look only; build: the allowlist) */
  openSession(o: { directory: string; title: string; rules: AgentKind }): Promise<string>;
  prompt(o: { sessionId: string; directory: string; agent: AgentKind; text: string; stallMs: number; timeoutMs: number }): Promise<PromptResult>;
  promptNamingModel(o: { sessionId: string; directory: string; text: string; modelId: string; timeoutMs: number }): Promise<{ text: string; providerId: string; modelId: string }>;
  registeredModels(directory: string): Promise<string[]>;
  /** what the policy answered for the session's asks, in order */
  answers(sessionId: string): UnattendedAnswer[];
  /** aborts every session this agent opened (idempotent) */
  abortAll(): Promise<void>;
  stop(): Promise<void>;
}

export interface SuiteAgentOptions {
  config: KodoConfig;
  model: SuiteModel;
  policy: ResolvedPolicy;
  /** OpenCode's state dir: the suite's own, so it never meets a running `kodo serve`'s server */
  stateDir: string;
  logFile: string;
  /** the agent may write below these (the suite's worktree) */
  writable: string[];
  /** visible read-only on top (a checkout that is not a kodo worktree: the sandbox's /tmp is private) */
  readOnly: string[];
  /** hidden from the agent: the kodo home, the ledger */
  masked: string[];
  log: (line: string) => void;
}

/** Starts OpenCode for the suite. Throws when it cannot (the suite reports that as CLIFAIL). */
export async function startSuiteAgent(o: SuiteAgentOptions): Promise<SuiteAgent> {
  const sandbox = await chooseAgentSandbox(o.config.agentSandbox, { writable: o.writable, readOnly: o.readOnly, masked: o.masked }, o.log);
  const server: OpenCodeServer = await startOpenCodeServer({
    stateDir: o.stateDir,
    model: { baseUrl: o.model.baseUrl, apiKey: o.model.apiKey, model: o.model.model },
    logFile: o.logFile,
    ...(sandbox === undefined ? {} : { sandbox }),
  });
  const sessions = new Map<string, { agent: AgentKind; directory: string }>();
  const answers = new Map<string, UnattendedAnswer[]>();
  const answerer = PolicyAnswerer.start({
    server,
    decide: async (ask) => {
      const session = sessions.get(ask.sessionId);
      if (session === undefined) return undefined;
      const decision = await decidePermission(o.policy, policyContext(session.directory), {
        agent: session.agent,
        permission: ask.permission,
        patterns: ask.patterns,
        metadata: ask.metadata,
        directory: session.directory,
      });
      return { action: decision.action, code: decision.code, reason: decision.reason, matchedRules: decision.matchedRules };
    },
    onAnswer: (answer) => answers.set(answer.sessionId, [...(answers.get(answer.sessionId) ?? []), answer]),
    directories: () => [...new Set([...sessions.values()].map((session) => session.directory))],
    log: o.log,
  });
  const runtime = createOpenCodeRuntime(server, { waitingForHuman: (sessionId) => answerer.hasPending(sessionId) });
  return {
    providerId: PROVIDER_ID,
    modelId: o.model.model,
    confinement: describeAgentSandbox(server.sandbox),
    health: () => serverHealth(server),
    async openSession({ directory, title, rules }) {
      const permission = await agentPermissionRules(o.policy, rules, policyContext(directory));
      const { sessionId } = await runtime.createSession({ directory, title, permission });
      sessions.set(sessionId, { agent: rules, directory: path.resolve(directory) });
      return sessionId;
    },
    prompt: (p) => runtime.prompt(p),
    promptNamingModel: (p) => promptNamingModel(server, { ...p, agent: "plan", providerId: PROVIDER_ID }),
    registeredModels: (directory) => registeredModels(server, directory),
    answers: (sessionId) => [...(answers.get(sessionId) ?? [])],
    async abortAll() {
      await Promise.all([...sessions].map(([sessionId, session]) => runtime.abort({ sessionId, directory: session.directory }).catch(() => undefined)));
    },
    async stop() {
      await answerer.stop();
      await server.stop();
    },
  };
}
