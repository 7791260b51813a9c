/**
 * What the in-process commands (`serve`, `demo`, `model serve`) need of @kodo/server, as one small
 * port. The real adapter imports the server lazily, so client commands never load Postgres,
 * DBOS or OpenCode code; tests pass a fake.
 */

export interface RunningServer {
  url: string;
  /** Studio, the web board, with the API token in the URL's fragment */
  studioUrl?: string;
  stop(): Promise<void>;
}

export interface RunningModel {
  /** base URL ending in /v1 */
  url: string;
  port: number;
  /** the model id to set as KODO_MODEL */
  model: string;
  close(): Promise<void>;
}

export interface DemoOutcome {
  ok: boolean;
  [key: string]: unknown;
}

export interface ServerApi {
  startKodo(options: { env: NodeJS.ProcessEnv; host: string; port: number; worker: boolean; log: (line: string) => void }): Promise<RunningServer>;
  runDemo(options: { env: NodeJS.ProcessEnv; json: boolean; log: (line: string) => void }): Promise<DemoOutcome>;
  startScriptedModel(options: { scriptFile: string; host: string; port: number }): Promise<RunningModel>;
}

const SCRIPTED_MODEL_ID = "scripted-1";

export const realServerApi: ServerApi = {
  async startKodo({ env, ...options }) {
    const server = await import("@kodo/server");
    return server.startKodo({ config: server.loadConfig(env), ...options });
  },
  async runDemo(options) {
    const server = await import("@kodo/server");
    const result = await server.runDemo(options);
    return { ...result };
  },
  async startScriptedModel({ scriptFile, host, port }) {
    const server = await import("@kodo/server");
    const script = server.loadScript(scriptFile);
    const model = await server.startScriptedModelServer({ script, host, port, model: SCRIPTED_MODEL_ID });
    return { url: model.url, port: model.port, model: SCRIPTED_MODEL_ID, close: () => model.close() };
  },
};
