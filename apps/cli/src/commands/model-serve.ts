import path from "node:path";
import type { Command } from "./command.js";
import { runUntilSignal } from "./until-signal.js";

export const modelServe: Command = {
  spec: {
    name: "model serve",
    group: "server",
    summary: "Serve a scripted, OpenAI-compatible model from a script file (offline demos and tests).",
    synopsis: "--script FILE [--port N] [--host H]",
    positionals: [],
    options: {
      script: { type: "string", value: "FILE", description: "the model script (JSON; see docs/scripted-model.md)" },
      port: { type: "string", value: "N", description: "port to listen on (default 0: a free one)" },
      host: { type: "string", value: "H", description: "address to bind (default 127.0.0.1)" },
    },
    client: false,
    examples: ["kodo model serve --script apps/server/assets/model-scripts/demo.json", "kodo model serve --script demo.json --port 8089 --json"],
  },
  async run(context) {
    const { args, io } = context;
    const scriptFile = path.resolve(io.cwd, args.requireString("script"));
    const port = args.integer("port", { min: 0, max: 65_535 }) ?? 0;
    const host = args.string("host") ?? "127.0.0.1";
    const model = await context.server.startScriptedModel({ scriptFile, host, port });
    const env = { KODO_MODEL_BASE_URL: model.url, KODO_MODEL: model.model };
    if (context.json) {
      context.printJson({ url: model.url, port: model.port, model: model.model, env });
    } else {
      io.stdout(`scripted model listening on ${model.url}  (script: ${scriptFile})`);
      io.stdout("point kodo at it with:");
      io.stdout(`  export KODO_MODEL_BASE_URL=${env.KODO_MODEL_BASE_URL} KODO_MODEL=${env.KODO_MODEL}`);
      io.stdout("press Ctrl-C to stop");
    }
    return runUntilSignal(context, "the scripted model", () => model.close());
  },
};
