import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const demo: Command = {
  spec: {
    name: "demo",
    group: "server",
    summary: "Run one task end to end, offline: embedded Postgres, a scripted model, a real OpenCode agent.",
    synopsis: "",
    positionals: [],
    options: {},
    client: false,
    examples: ["kodo demo", "kodo demo --json"],
  },
  async run(context) {
    const { io } = context;
    const result = await context.server.runDemo({ env: io.env, json: context.json, log: (line) => (context.json ? io.stderr(line) : io.stdout(line)) });
    if (context.json) context.printJson(result);
    return result.ok ? ExitCode.ok : ExitCode.failed;
  },
};
