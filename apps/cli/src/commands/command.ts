/** The shape every command has, and what it gets to work with. */
import type { Args, CommandSpec } from "../args.js";
import type { KodoClient } from "../client.js";
import type { ExitCode } from "../errors.js";
import type { Io } from "../io.js";
import type { ServerApi } from "../server-api.js";

export interface CommandContext {
  io: Io;
  args: Args;
  /** --json: print exactly one JSON document on stdout, with `printJson` */
  json: boolean;
  printJson(value: unknown): void;
  /** a client of the server this command talks to (--url, KODO_URL or server.json) */
  client(): Promise<KodoClient>;
  server: ServerApi;
  /** how long `serve` and `model serve` wait for a clean stop after a signal */
  stopDeadlineMs: number;
}

export interface Command {
  spec: CommandSpec;
  /** resolves with the exit code; failures are thrown as CliError */
  run(context: CommandContext): Promise<ExitCode>;
}
