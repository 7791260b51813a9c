import type { Command } from "./command.js";
import { runUntilSignal } from "./until-signal.js";

export const DEFAULT_PORT = 7433;

export const serve: Command = {
  spec: {
    name: "serve",
    group: "server",
    summary: "Start the kodo server (HTTP API, workflow worker, OpenCode) and keep it up until Ctrl-C.",
    synopsis: "[--port N] [--host H] [--no-worker]",
    positionals: [],
    options: {
      port: { type: "string", value: "N", description: `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
      host: { type: "string", value: "H", description: "address to bind (default 127.0.0.1)" },
      "no-worker": { type: "boolean", description: "serve the API only; runs are executed by other workers" },
    },
    client: false,
    examples: ["kodo serve", "kodo serve --port 0 --json", "KODO_HOME=/tmp/kodo kodo serve --no-worker"],
  },
  async run(context) {
    const { args, io } = context;
    const port = args.integer("port", { min: 0, max: 65_535 }) ?? DEFAULT_PORT;
    const host = args.string("host") ?? "127.0.0.1";
    let announced = false;
    const log = (line: string): void => {
      if (line.startsWith("kodo listening on ")) announced = true;
      if (context.json) io.stderr(line);
      else io.stdout(line);
    };
    const server = await context.server.startKodo({ env: io.env, host, port, worker: !args.flag("no-worker"), log });
    if (context.json) context.printJson({ url: server.url });
    else {
      if (!announced) io.stdout(`kodo listening on ${server.url}`);
      // the token is in the fragment, which the browser keeps to itself; `kodo studio` prints it again
      if (server.studioUrl !== undefined) io.stdout(`studio: ${server.studioUrl}`);
      io.stdout("press Ctrl-C to stop");
    }
    return runUntilSignal(context, "kodo", () => server.stop());
  },
};
