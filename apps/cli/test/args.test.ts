import { describe, expect, it } from "vitest";
import { parseCommandLine, UsageError } from "../src/args.js";
import { runCli } from "../src/cli.js";
import { COMMANDS } from "../src/commands/index.js";
import { memoryIo } from "./support/memory-io.js";

const SPECS = COMMANDS.map((command) => command.spec);

function usage(argv: string[]): UsageError {
  try {
    parseCommandLine(argv, SPECS);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error(`expected a usage error for ${argv.join(" ")}`);
}

describe("parseCommandLine", () => {
  it("finds one- and two-word commands with their options and positionals", () => {
    const parsed = parseCommandLine(["task", "run", "tsk_1", "--wait", "--url", "http://x"], SPECS);
    expect(parsed.kind).toBe("command");
    if (parsed.kind !== "command") return;
    expect(parsed.args.spec.name).toBe("task run");
    expect(parsed.args.positional("TASK_ID")).toBe("tsk_1");
    expect(parsed.args.flag("wait")).toBe(true);
    expect(parsed.args.string("url")).toBe("http://x");
    expect(parsed.json).toBe(false);

    const logs = parseCommandLine(["logs", "-f", "run_1", "--json"], SPECS);
    expect(logs.kind === "command" && [logs.args.spec.name, logs.args.flag("follow"), logs.json]).toEqual(["logs", true, true]);
  });

  it("accepts --json before the command", () => {
    const parsed = parseCommandLine(["--json", "task", "list"], SPECS);
    expect(parsed.kind === "command" && parsed.json).toBe(true);
  });

  it("recognises help and version in every place", () => {
    expect(parseCommandLine(["--version"], SPECS)).toEqual({ kind: "version" });
    expect(parseCommandLine(["--help"], SPECS)).toMatchObject({ kind: "help", command: undefined, group: undefined });
    expect(parseCommandLine(["task", "--help"], SPECS)).toMatchObject({ kind: "help", group: "task" });
    expect(parseCommandLine(["help", "task", "create"], SPECS)).toMatchObject({ kind: "help", command: { name: "task create" } });
    // --help wins over mistakes in the same line
    expect(parseCommandLine(["approve", "--bogus", "-h"], SPECS)).toMatchObject({ kind: "help", command: { name: "approve" } });
  });

  it.each([
    [[], "missing command", undefined],
    [["frobnicate"], 'unknown command "frobnicate"', undefined],
    [["task"], "kodo task: missing subcommand", undefined],
    [["task", "explode"], 'kodo task: unknown subcommand "explode"', undefined],
    [["--verbose"], "unknown option --verbose (options follow the command)", undefined],
    [["task", "show"], "missing TASK_ID", "task show"],
    [["task", "show", "a", "b"], 'unexpected argument "b"', "task show"],
    [["task", "list", "--bogus"], "Unknown option '--bogus'", "task list"],
    [["approve", "run_1", "--comment"], "Option '--comment <value>' argument missing", "approve"],
    [["task", "run", "--wait=yes", "tsk_1"], "Option '--wait' does not take an argument", "task run"],
  ])("%j is a usage error: %s", (argv, message, command) => {
    const error = usage(argv);
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(2);
    expect(error.command?.name).toBe(command);
  });

  it("validates typed option values", () => {
    const parsed = parseCommandLine(["serve", "--port", "99999"], SPECS);
    expect(parsed.kind).toBe("command");
    if (parsed.kind !== "command") return;
    expect(() => parsed.args.integer("port", { min: 0, max: 65_535 })).toThrow('--port must be a whole number from 0 to 65535, got "99999"');
    const list = parseCommandLine(["task", "list", "--status", "planningreview"], SPECS);
    expect(list.kind === "command" && list.args.oneOf("status", ["Todo", "PlanningReview"])).toBe("PlanningReview");
  });
});

describe("runCli usage, help and version", () => {
  it("prints usage to stderr and exits 2 on a usage error", async () => {
    const io = memoryIo();
    expect(await runCli(["task", "show"], io)).toBe(2);
    expect(io.out).toEqual([]);
    expect(io.err).toEqual(["kodo: USAGE: missing TASK_ID", "Usage: kodo task show TASK_ID [--url URL] [--json]\nRun `kodo task show --help` for details."]);
  });

  it("prints the group's subcommands for a bad subcommand", async () => {
    const io = memoryIo();
    expect(await runCli(["model"], io)).toBe(2);
    expect(io.err[1]).toContain("Usage: kodo model <serve> [options]");
  });

  it("with --json, a usage error is one JSON document on stdout (usage still on stderr)", async () => {
    const io = memoryIo();
    expect(await runCli(["task", "list", "--limit", "0", "--json"], io)).toBe(2);
    expect(io.json()).toEqual({ error: { code: "USAGE", message: '--limit must be a whole number from 1 to 1000, got "0"' } });
    expect(io.err[0]).toContain("Usage: kodo task list");
  });

  it("prints help on stdout with exit 0, and the version", async () => {
    const io = memoryIo();
    expect(await runCli(["--help"], io)).toBe(0);
    for (const spec of SPECS) expect(io.stdoutText()).toContain(spec.name);
    const commandIo = memoryIo();
    expect(await runCli(["task", "create", "--help"], commandIo)).toBe(0);
    expect(commandIo.stdoutText()).toContain("--prompt-file F");
    expect(commandIo.stdoutText()).toContain("Examples:");
    const versionIo = memoryIo();
    expect(await runCli(["--version"], versionIo)).toBe(0);
    expect(versionIo.out).toEqual(["kodo 0.1.0"]);
    const jsonIo = memoryIo();
    expect(await runCli(["--version", "--json"], jsonIo)).toBe(0);
    expect(jsonIo.json()).toEqual({ version: "0.1.0" });
  });

  it("every command has a summary, an example and a help text that parses back", () => {
    for (const spec of SPECS) {
      expect(spec.summary).not.toBe("");
      expect(spec.examples.length).toBeGreaterThan(0);
      for (const example of spec.examples) expect(example.startsWith(`kodo ${spec.name}`) || example.includes(` kodo ${spec.name}`)).toBe(true);
    }
  });
});
