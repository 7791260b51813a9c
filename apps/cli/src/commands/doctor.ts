import type { CheckResult, DoctorReport } from "@kodo/server";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

/** One line per check, the fix indented below a WARN or FAIL, then the tally. */
export function formatDoctorReport(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((check) => check.id.length));
  const lines = [`kodo doctor: ${report.home}`];
  for (const check of report.checks) {
    lines.push(`${check.status.padEnd(4)}  ${check.id.padEnd(width)}  ${check.summary}`);
    if (check.fix !== undefined) lines.push(`${" ".repeat(width + 8)}fix: ${check.fix}`);
  }
  const count = (status: CheckResult["status"]): number => report.checks.filter((check) => check.status === status).length;
  lines.push(`${count("PASS")} passed, ${count("WARN")} warnings, ${count("FAIL")} failed`);
  return lines;
}

export const doctor: Command = {
  spec: {
    name: "doctor",
    group: "server",
    summary: "Check this kodo home: machine, OpenCode, server, database, migrations, DBOS, stuck runs. Exit 1 on any FAIL.",
    synopsis: "[--stuck-minutes N]",
    positionals: [],
    options: {
      "stuck-minutes": { type: "string", value: "N", description: "a run or pending model call with no progress for N minutes is stuck (default 30)" },
    },
    client: false,
    examples: ["kodo doctor", "KODO_HOME=/srv/kodo kodo doctor --json"],
  },
  async run(context) {
    const { args, io } = context;
    const stuckMinutes = args.integer("stuck-minutes", { min: 0, max: 100_000 });
    const { runDoctor } = await import("@kodo/server");
    const report = await runDoctor({ env: io.env, ...(stuckMinutes === undefined ? {} : { stuckMinutes }) });
    if (context.json) context.printJson({ ok: report.ok, home: report.home, checks: report.checks });
    else for (const line of formatDoctorReport(report)) io.stdout(line);
    return report.ok ? ExitCode.ok : ExitCode.failed;
  },
};
