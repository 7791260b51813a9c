/**
 * Command-line parsing on `node:util` parseArgs: finds the command (one or two words), parses
 * its options strictly and checks its positionals. Every mistake is a UsageError (exit 2) that
 * knows which command's usage to print.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { CliError, ExitCode } from "./errors.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** placeholder shown in help, e.g. "PATH" */
  value?: string;
  description: string;
  /** a string option that may be given more than once (`--arg a=1 --arg b=2`) */
  multiple?: boolean;
}

export type CommandGroup = "server" | "tasks" | "runs" | "policy" | "governance" | "ci";

export interface CommandSpec {
  /** one or two words: "serve", "task create" */
  name: string;
  group: CommandGroup;
  summary: string;
  /** what follows the name in the usage line, e.g. "TASK_ID [--wait]" */
  synopsis: string;
  /** required positional arguments, by name */
  positionals: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** talks to a running server: accepts --url */
  client: boolean;
  /** the exit code of a usage error, for a command with its own exit-code table (`ci run`); default 2 */
  usageExitCode?: ExitCode;
  examples: readonly string[];
}

/** A usage mistake: exit 2, with the usage of `command` (or of `group`, or the global usage) on stderr. */
export class UsageError extends CliError {
  readonly command: CommandSpec | undefined;
  readonly group: string | undefined;

  constructor(message: string, command: CommandSpec | undefined, group?: string) {
    super("USAGE", message, ExitCode.usage);
    this.name = "UsageError";
    this.command = command;
    this.group = group;
  }
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The parsed options and positionals of one command, with typed accessors. */
export class Args {
  readonly spec: CommandSpec;
  readonly #values: Values;
  readonly #positionals: readonly string[];

  constructor(spec: CommandSpec, values: Values, positionals: readonly string[]) {
    this.spec = spec;
    this.#values = values;
    this.#positionals = positionals;
  }

  positional(name: string): string {
    const index = this.spec.positionals.indexOf(name);
    const value = this.#positionals[index];
    if (index === -1 || value === undefined) throw new UsageError(`missing ${name}`, this.spec);
    return value;
  }

  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === "string" ? value : undefined;
  }

  requireString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw new UsageError(`--${name} is required`, this.spec);
    return value;
  }

  /** every value of a repeatable option, in order */
  strings(name: string): string[] {
    const value = this.#values[name];
    if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
    return typeof value === "string" ? [value] : [];
  }

  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  integer(name: string, range: { min: number; max: number }): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
      throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`, this.spec);
    }
    return value;
  }

  /** the value of `name`, which must be one of `allowed` */
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const match = allowed.find((candidate) => candidate.toLowerCase() === raw.toLowerCase());
    if (match === undefined) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(raw)}`, this.spec);
    return match;
  }
}

export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", description: "print exactly one JSON document on stdout, nothing else" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

export const URL_OPTION: OptionSpec = {
  type: "string",
  value: "URL",
  description: "the kodo server (default: $KODO_URL, then $KODO_HOME/server.json)",
};

export function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, ...(spec.client ? { url: URL_OPTION } : {}), ...COMMON_OPTIONS };
}

export type ParsedCommandLine =
  | { kind: "help"; command: CommandSpec | undefined; group: string | undefined }
  | { kind: "version" }
  | { kind: "command"; args: Args; json: boolean };

function findCommand(words: readonly string[], specs: readonly CommandSpec[]): CommandSpec | undefined {
  const [first, second] = words;
  return (
    specs.find((spec) => second !== undefined && spec.name === `${first} ${second}`) ?? specs.find((spec) => spec.name === first)
  );
}

function groupWords(specs: readonly CommandSpec[]): Set<string> {
  return new Set(specs.filter((spec) => spec.name.includes(" ")).map((spec) => spec.name.split(" ")[0] ?? ""));
}

/** The first sentence of a parseArgs error (its advice about `--` is noise here). */
function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split(/\.\s/)[0]?.replace(/\.$/, "") ?? message;
}

export function parseCommandLine(argv: readonly string[], specs: readonly CommandSpec[]): ParsedCommandLine {
  // `--json` may come before the command word too: `kodo --json task list`.
  const tokens = argv[0] === "--json" ? [...argv.slice(1), "--json"] : [...argv];
  const [first, second] = tokens;
  if (first === undefined) throw new UsageError("missing command", undefined);
  if (first === "--version" || first === "-V") return { kind: "version" };
  if (first === "--help" || first === "-h") return { kind: "help", command: undefined, group: undefined };
  if (first === "help") {
    const words = tokens.slice(1);
    const command = findCommand(words, specs);
    return { kind: "help", command, group: command === undefined && words[0] !== undefined && groupWords(specs).has(words[0]) ? words[0] : undefined };
  }
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first} (options follow the command)`, undefined);

  const spec = findCommand(tokens, specs);
  if (spec === undefined) {
    if (groupWords(specs).has(first)) {
      if (second === undefined || second === "--help" || second === "-h") {
        if (second !== undefined) return { kind: "help", command: undefined, group: first };
        throw new UsageError(`kodo ${first}: missing subcommand`, undefined, first);
      }
      throw new UsageError(`kodo ${first}: unknown subcommand ${JSON.stringify(second)}`, undefined, first);
    }
    throw new UsageError(`unknown command ${JSON.stringify(first)}`, undefined);
  }

  const rest = tokens.slice(spec.name.split(" ").length);
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, option] of Object.entries(optionsOf(spec))) {
    options[name] = {
      type: option.type,
      ...(option.short === undefined ? {} : { short: option.short }),
      ...(option.multiple === true ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    if (rest.includes("--help") || rest.includes("-h")) return { kind: "help", command: spec, group: undefined };
    throw new UsageError(shortMessage(error), spec);
  }
  if (parsed.values["help"] === true) return { kind: "help", command: spec, group: undefined };
  const extra = parsed.positionals.slice(spec.positionals.length);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`, spec);
  const missing = spec.positionals[parsed.positionals.length];
  if (missing !== undefined) throw new UsageError(`missing ${missing}`, spec);
  return { kind: "command", args: new Args(spec, parsed.values, parsed.positionals), json: parsed.values["json"] === true };
}
