/**
 * `kodo …` as a function: parse, run the command, map every failure to its exit code and print
 * it (`kodo: CODE: message` on stderr, or `{"error":{…}}` on stdout with --json).
 */
import { readFileSync } from "node:fs";
import { parseCommandLine, UsageError, type CommandSpec } from "./args.js";
import { KodoClient } from "./client.js";
import { COMMANDS } from "./commands/index.js";
import { actorOption } from "./commands/actor-option.js";
import type { CommandContext } from "./commands/command.js";
import { ExitCode, toCliError } from "./errors.js";
import { commandHelp, globalHelp, groupHelp, usageLine } from "./help.js";
import type { Io } from "./io.js";
import { realServerApi, type ServerApi } from "./server-api.js";
import { resolveServer, resolveToken } from "./server-url.js";

export interface CliOptions {
  server?: ServerApi;
  /** deadline of one HTTP request; default 10 s */
  requestTimeoutMs?: number;
  /** how long serve/model serve wait for a clean stop; default 30 s */
  stopDeadlineMs?: number;
}

const SPECS: readonly CommandSpec[] = COMMANDS.map((command) => command.spec);

export function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "0.0.0";
}

function printJson(io: Io, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2));
}

/** Prints a failure: `{"error":{…}}` on stdout when `json`, else `kodo: CODE: message` on stderr. */
function report(io: Io, json: boolean, error: unknown, spec: CommandSpec | undefined): ExitCode {
  const failure = toCliError(error);
  if (json) printJson(io, { error: failure.toJSON() });
  else io.stderr(`kodo: ${failure.code}: ${failure.message}`);
  if (failure.code === "USAGE") {
    const command = failure instanceof UsageError ? (failure.command ?? spec) : spec;
    const group = failure instanceof UsageError ? failure.group : undefined;
    if (command !== undefined) io.stderr(`${usageLine(command)}\nRun \`kodo ${command.name} --help\` for details.`);
    else if (group !== undefined) io.stderr(groupHelp(group, SPECS));
    else io.stderr(`\n${globalHelp(SPECS)}`);
    // a command with its own exit-code table says what a usage error is there
    if (command?.usageExitCode !== undefined) return command.usageExitCode;
  }
  return failure.exitCode;
}

export async function runCli(argv: readonly string[], io: Io, options: CliOptions = {}): Promise<ExitCode> {
  const json = argv.includes("--json");
  let spec: CommandSpec | undefined;
  let printed = false;
  try {
    const parsed = parseCommandLine(argv, SPECS);
    if (parsed.kind === "version") {
      if (json) printJson(io, { version: version() });
      else io.stdout(`kodo ${version()}`);
      return ExitCode.ok;
    }
    if (parsed.kind === "help") {
      const text = parsed.command !== undefined ? commandHelp(parsed.command) : parsed.group !== undefined ? groupHelp(parsed.group, SPECS) : globalHelp(SPECS);
      if (json) printJson(io, { help: text });
      else io.stdout(text);
      return ExitCode.ok;
    }
    const { args } = parsed;
    spec = args.spec;
    const command = COMMANDS.find((candidate) => candidate.spec === args.spec);
    if (command === undefined) throw new UsageError(`unknown command ${args.spec.name}`, undefined);
    const context: CommandContext = {
      io,
      args,
      json: parsed.json,
      printJson: (value) => {
        printed = true;
        printJson(io, value);
      },
      server: options.server ?? realServerApi,
      stopDeadlineMs: options.stopDeadlineMs ?? 30_000,
      client: async () => {
        const actor = actorOption(args);
        const location = await resolveServer(args.string("url"), io.env);
        const token = await resolveToken(io.env);
        return new KodoClient({
          baseUrl: location.url,
          source: location.source,
          ...(token === undefined ? {} : { token }),
          ...actor,
          signal: io.interrupt,
          ...(options.requestTimeoutMs === undefined ? {} : { timeoutMs: options.requestTimeoutMs }),
        });
      },
    };
    return await command.run(context);
  } catch (error) {
    return report(io, json && !printed, error, spec);
  }
}
