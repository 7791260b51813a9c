import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { KodoError } from "../lib/errors.js";
import { serverPermissionConfig } from "./permissions.js";

/** The OpenAI-compatible endpoint the agent talks to. */
export interface AgentModelOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
}

/** kodo registers its model as the custom provider `kodo`; OpenCode then knows it as `kodo/<model>`. */
export const PROVIDER_ID = "kodo";

/** Absolute path of the `opencode` executable shipped by the `opencode-ai` package. */
export function resolveOpenCodeBinary(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve("opencode-ai/package.json");
  } catch (error) {
    throw new KodoError("OPENCODE_START_FAILED", "the opencode-ai package is not installed", { cause: error });
  }
  const packageDir = path.dirname(packageJson);
  const candidates = [
    path.join(packageDir, "bin", "opencode.exe"),
    path.join(packageDir, "..", ".bin", "opencode"),
  ];
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new KodoError("OPENCODE_START_FAILED", `no executable opencode binary below ${packageDir}`);
}

/**
 * The inline config (`OPENCODE_CONFIG_CONTENT`). The API key is not inlined: it is read by OpenCode
 * from `apiKeyFile` (`{file:…}` substitution), so it does not travel in the environment that the
 * agent's shell commands inherit. `shell` is the wrapper from agent-shell.ts.
 */
export function openCodeConfig(model: AgentModelOptions, apiKeyFile: string, shell: string | undefined): Record<string, unknown> {
  return {
    $schema: "https://opencode.ai/config.json",
    autoupdate: false,
    share: "disabled",
    lsp: false,
    formatter: false,
    model: `${PROVIDER_ID}/${model.model}`,
    small_model: `${PROVIDER_ID}/${model.model}`,
    enabled_providers: [PROVIDER_ID],
    provider: {
      [PROVIDER_ID]: {
        npm: "@ai-sdk/openai-compatible",
        name: "kodo model",
        options: { baseURL: model.baseUrl, apiKey: `{file:${apiKeyFile}}` },
        models: { [model.model]: { name: model.model, tool_call: true } },
      },
    },
    permission: serverPermissionConfig(),
    ...(shell === undefined ? {} : { shell }),
  };
}
