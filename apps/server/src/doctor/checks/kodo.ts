/** kodo itself: the configuration in this environment, and the kodo server of this home. */
import { redactUrl } from "../../db/connect.js";
import type { DoctorContext } from "../context.js";
import { fail, pass, warn, type Finding } from "../types.js";

export async function checkConfig(context: DoctorContext): Promise<Finding> {
  const { configState } = context;
  if (!configState.ok) {
    return fail(`the configuration in this environment is invalid: ${configState.error}`, "fix the variable named above; kodo serve refuses to start with it", { home: configState.config.home.root });
  }
  const { config } = configState;
  const details = {
    home: config.home.root,
    database: config.databaseUrl === undefined ? "embedded" : redactUrl(config.databaseUrl),
    applicationVersion: config.applicationVersion,
    agentSandbox: config.agentSandbox,
    model: config.model === undefined ? null : { baseUrl: config.model.baseUrl, model: config.model.model },
  };
  if (config.model === undefined) {
    return warn(
      `no model is configured in this environment: kodo serve refuses to start (only kodo serve --no-worker runs)`,
      "set KODO_MODEL_BASE_URL and KODO_MODEL (and KODO_MODEL_API_KEY), or run `kodo model serve --script FILE` for an offline one",
      details,
    );
  }
  return pass(`configuration valid: home ${config.home.root}, model ${config.model.model} at ${config.model.baseUrl}, application version ${config.applicationVersion}`, details);
}

export async function checkKodoServer(context: DoctorContext): Promise<Finding> {
  const kodo = await context.kodo();
  switch (kodo.state) {
    case "missing":
      return warn(`kodo is not running for this home (no ${kodo.file})`, "start it: kodo serve");
    case "invalid":
      return fail(`${kodo.file} is unreadable: ${kodo.error}`, `remove ${kodo.file}; kodo serve writes it again`);
    case "stale":
      return warn(
        `stale ${kodo.file}: the kodo process ${kodo.server.pid} (${kodo.server.url}) is gone without cleaning up (killed, or the machine restarted)`,
        "start kodo serve: it recovers what was in flight",
        { pid: kodo.server.pid, url: kodo.server.url },
      );
    case "alive": {
      const details = { pid: kodo.server.pid, url: kodo.server.url, executorId: kodo.server.executorId ?? null, health: kodo.health ?? null };
      if (kodo.health === undefined) {
        return fail(
          `kodo process ${kodo.server.pid} is alive but ${kodo.server.url}/api/health does not answer (${kodo.healthError ?? "?"})`,
          "look at its terminal output and <home>/logs/; restart kodo serve",
          details,
        );
      }
      const { health } = kodo;
      const role = health.worker ? `API and worker${kodo.server.executorId === undefined ? "" : ` (executor ${kodo.server.executorId})`}` : "API only";
      return pass(`kodo ${health.version} answers at ${kodo.server.url} (pid ${kodo.server.pid}, ${role}, ${health.database} database)`, details);
    }
  }
}
