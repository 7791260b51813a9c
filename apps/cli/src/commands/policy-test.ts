import path from "node:path";
import { UsageError } from "../args.js";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const policyTest: Command = {
  spec: {
    name: "policy test",
    group: "policy",
    summary: "Run a folder of policy fixtures (request → expected decision); fails on any mismatch.",
    synopsis: "DIR",
    positionals: ["DIR"],
    options: {},
    client: false,
    examples: ["kodo policy test apps/server/assets/policy-fixtures", "kodo policy test ./my-fixtures --json"],
  },
  async run(context) {
    const { args, io } = context;
    const dir = path.resolve(io.cwd, args.positional("DIR"));
    const { runFixtures } = await import("@kodo/server/policy");
    let report: Awaited<ReturnType<typeof runFixtures>>;
    try {
      report = await runFixtures(dir);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new UsageError(`cannot read the fixture directory ${dir} (${typeof code === "string" ? code : "unreadable"})`, args.spec);
    }
    if (report.results.length === 0) throw new UsageError(`no *.json fixtures in ${dir}`, args.spec);
    if (context.json) {
      context.printJson(report);
    } else {
      for (const result of report.results) {
        if (result.ok) io.stdout(`PASS ${result.file}: ${result.name}`);
        else io.stdout(`FAIL ${result.file}: ${result.name}\n${result.problems.map((problem) => `  ${problem}`).join("\n")}`);
      }
      io.stdout(`${report.passed} passed, ${report.failed} failed`);
    }
    return report.failed === 0 ? ExitCode.ok : ExitCode.failed;
  },
};
