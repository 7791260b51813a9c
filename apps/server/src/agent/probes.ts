/**
 * Direct calls to the OpenCode server that are not agent turns of the AgentRuntime port: its
 * health, its model registry, and a prompt that names a model explicitly. The dogfood suite uses
 * them to check connectivity (T1C01) and that an unknown model is refused (T1C03). Every call is
 * bounded; failures are KodoErrors.
 */
import { KodoError } from "../lib/errors.js";
import { normalizeError } from "./event-types.js";
import { TIMEOUT_HEADER } from "./http.js";
import type { AgentName, RuntimeServer } from "./runtime.js";
import { unwrap } from "./sdk-call.js";
import { textOf } from "./session-messages.js";

type ProbeServer = Pick<RuntimeServer, "client">;

function bounded(timeoutMs: number): { headers: Record<string, string> } {
  return { headers: { [TIMEOUT_HEADER]: String(timeoutMs) } };
}

/** `GET /global/health`: `{healthy, version}`. */
export async function serverHealth(server: ProbeServer, timeoutMs = 5_000): Promise<{ healthy: boolean; version: string }> {
  const health = await unwrap("GET /global/health", server.client().global.health(bounded(timeoutMs)));
  return { healthy: health.healthy, version: health.version };
}

/** The models OpenCode's registry knows for `directory`, as `provider/model` ids, sorted. */
export async function registeredModels(server: ProbeServer, directory: string, timeoutMs = 5_000): Promise<string[]> {
  const listing = await unwrap("GET /config/providers", server.client().config.providers({ directory }, bounded(timeoutMs)));
  return listing.providers.flatMap((provider) => Object.keys(provider.models).map((model) => `${provider.id}/${model}`)).sort();
}

/**
 * One blocking turn of `agent` that names its model (`providerId/modelId`) instead of the
 * server's default. Resolves with the reply's text and model; a refused request, or a turn that
 * ends with an error, rejects (AGENT_UNAVAILABLE / BAD_REQUEST for the request, AGENT_FAILED for
 * the turn). Bounded by `timeoutMs`; meant for short probes, not for work.
 */
export async function promptNamingModel(
  server: ProbeServer,
  o: { sessionId: string; directory: string; agent: AgentName; text: string; providerId: string; modelId: string; timeoutMs: number },
): Promise<{ text: string; providerId: string; modelId: string }> {
  const reply = await unwrap(
    `POST /session/${o.sessionId}/message`,
    server.client().session.prompt(
      {
        sessionID: o.sessionId,
        directory: o.directory,
        agent: o.agent,
        model: { providerID: o.providerId, modelID: o.modelId },
        parts: [{ type: "text", text: o.text }],
      },
      bounded(o.timeoutMs),
    ),
  );
  const error = normalizeError(reply.info.error);
  if (error !== undefined) {
    throw new KodoError("AGENT_FAILED", `the turn naming ${o.providerId}/${o.modelId} ended with ${error.name}: ${error.message}`, { details: { error } });
  }
  return { text: textOf(reply.parts), providerId: reply.info.providerID, modelId: reply.info.modelID };
}
