import path from "node:path";
import { CliError, ExitCode } from "../errors.js";
import type { Command } from "./command.js";

/** one week: a mission longer than that is a mistake, not a CI job */
const MAX_MISSION_SECONDS = 7 * 24 * 3600;

export const ciRun: Command = {
  spec: {
    name: "ci run",
    group: "ci",
    summary: "Run one task file's task start to end in this process (kodo, Postgres, OpenCode included) for a CI job, bounded by a mission timeout.",
    synopsis: "--task-file F --mission-timeout SECONDS [--out DIR] [--keep-home]",
    positionals: [],
    options: {
      "task-file": { type: "string", value: "F", description: "the task: JSON or YAML (docs/ci.md)" },
      "mission-timeout": { type: "string", value: "SECONDS", description: "bound on everything: start, run, stop; on expiry the run is cancelled (exit 2)" },
      out: { type: "string", value: "DIR", description: "where result.json, junit.xml and evidence/ go (default ./kodo-ci-out)" },
      "keep-home": { type: "boolean", description: "keep the temporary kodo home (KODO_HOME, when set, is always kept)" },
    },
    client: false,
    // exit codes 0-4 are outcomes here (docs/ci.md); a usage mistake means the task could not run
    usageExitCode: ExitCode.conflict,
    examples: ["kodo ci run --task-file .kodo/task.yaml --mission-timeout 1800", "kodo ci run --task-file task.json --mission-timeout 600 --out ci-out --json"],
  },
  async run(context) {
    const { args, io } = context;
    const taskFile = args.requireString("task-file");
    args.requireString("mission-timeout");
    const missionTimeoutSeconds = args.integer("mission-timeout", { min: 1, max: MAX_MISSION_SECONDS }) ?? MAX_MISSION_SECONDS;
    const ci = await import("@kodo/server/ci");
    const out = args.string("out");
    let result: Awaited<ReturnType<typeof ci.runCi>>;
    try {
      result = await ci.runCi({
        taskFile,
        missionTimeoutSeconds,
        ...(out === undefined ? {} : { outDir: out }),
        keepHome: args.flag("keep-home"),
        env: io.env,
        cwd: io.cwd,
        log: (line) => io.stderr(line),
        interrupt: io.interrupt,
      });
    } catch (error) {
      // runCi reports every outcome in its result; a throw means it could not even write that
      const code = (error as { code?: unknown }).code;
      throw new CliError(typeof code === "string" ? code : "INTERNAL", error instanceof Error ? error.message : String(error), ExitCode.conflict, { cause: error });
    }
    if (context.json) context.printJson(result);
    else {
      const shown = (file: string): string => path.relative(io.cwd, file) || ".";
      io.stdout(`kodo ci: ${result.status}${result.code === null ? "" : ` (${result.code})`}${result.runId === null ? "" : `, run ${result.runId} ended ${result.runStatus ?? "?"}`}; exit ${result.exitCode}`);
      io.stdout(`  result    ${shown(path.join(result.outDir, "result.json"))}`);
      io.stdout(`  junit     ${shown(path.join(result.outDir, "junit.xml"))}`);
      if (result.evidenceDir !== null) io.stdout(`  evidence  ${shown(result.evidenceDir)} (${result.evidenceVerified === true ? "verified" : "DOES NOT VERIFY"})`);
      if (result.homeKept && result.home !== null) io.stdout(`  home      ${result.home}`);
      if (result.status !== "success") io.stderr(`kodo: ${result.code ?? result.status.toUpperCase()}: ${result.message}`);
    }
    return result.exitCode;
  },
};
