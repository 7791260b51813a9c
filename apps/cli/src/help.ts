/** Help texts, all derived from the command specs so they cannot drift from the parser. */
import { optionsOf, type CommandGroup, type CommandSpec, type OptionSpec } from "./args.js";

export const VERSION_LINE = "kodo — run OpenCode coding agents as durable workflows";

const GROUP_TITLES: Record<CommandGroup, string> = {
  server: "Server",
  tasks: "Tasks",
  runs: "Runs",
  policy: "Policy",
  governance: "Governance (quorum approvals)",
  ci: "CI and evidence",
};

const EXIT_CODES = [
  "0 success",
  "1 the operation failed (the run ended Failed/Rejected/Cancelled, or a server error), or a policy check denied, or kodo doctor found a FAIL",
  "2 usage error",
  "3 not found",
  "4 conflict or invalid state (HTTP 409/422, 400 validation)",
  "5 kodo server not reachable or not running, or an infrastructure error",
  "(kodo ci run has its own: 0 success, 1 task failed, 2 mission timeout, 3 denied by policy, 4 could not run; docs/ci.md)",
];

function table(rows: readonly (readonly [string, string])[], indent = "  "): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${indent}${left.padEnd(width)}  ${right}`);
}

function optionLabel(name: string, option: OptionSpec): string {
  const long = `--${name}${option.value === undefined ? "" : ` ${option.value}`}`;
  return option.short === undefined ? long : `-${option.short}, ${long}`;
}

export function usageLine(spec: CommandSpec): string {
  return `Usage: kodo ${spec.name}${spec.synopsis === "" ? "" : ` ${spec.synopsis}`}${spec.client ? " [--url URL]" : ""} [--json]`;
}

export function commandHelp(spec: CommandSpec): string {
  const options = Object.entries(optionsOf(spec)).map(([name, option]) => [optionLabel(name, option), option.description] as const);
  return [
    usageLine(spec),
    "",
    spec.summary,
    "",
    "Options:",
    ...table(options),
    "",
    "Examples:",
    ...spec.examples.map((example) => `  ${example}`),
  ].join("\n");
}

export function groupHelp(group: string, specs: readonly CommandSpec[]): string {
  const members = specs.filter((spec) => spec.name.startsWith(`${group} `));
  return [
    `Usage: kodo ${group} <${members.map((spec) => spec.name.slice(group.length + 1)).join("|")}> [options]`,
    "",
    ...table(members.map((spec) => [spec.name, spec.summary] as const)),
    "",
    `Run \`kodo ${group} <subcommand> --help\` for its options.`,
  ].join("\n");
}

export function globalHelp(specs: readonly CommandSpec[]): string {
  const groups = (Object.keys(GROUP_TITLES) as CommandGroup[]).flatMap((group) => [
    `${GROUP_TITLES[group]}:`,
    ...table(specs.filter((spec) => spec.group === group).map((spec) => [[spec.name, ...spec.positionals].join(" "), spec.summary] as const)),
    "",
  ]);
  return [
    VERSION_LINE,
    "",
    "Usage: kodo <command> [options]",
    "",
    ...groups,
    "Every command takes --json (exactly one JSON document on stdout) and -h/--help.",
    "Client commands find the server by --url, else $KODO_URL, else $KODO_HOME/server.json (KODO_HOME defaults to ~/.kodo).",
    "  kodo --version    print the version",
    "",
    "Exit codes:",
    ...EXIT_CODES.map((line) => `  ${line}`),
  ].join("\n");
}
