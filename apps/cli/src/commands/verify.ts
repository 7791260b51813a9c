import path from "node:path";
import { UsageError } from "../args.js";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const verify: Command = {
  spec: {
    name: "verify",
    group: "ci",
    summary: "Check an evidence bundle: every file against the manifest and its .sha256 sidecar; no server needed.",
    synopsis: "DIR",
    positionals: ["DIR"],
    options: {},
    client: false,
    examples: ["kodo verify ~/.kodo/runs/run_01hzyx9q4t/evidence", "kodo verify kodo-ci-out/evidence --json"],
  },
  async run(context) {
    const { args, io } = context;
    const dir = path.resolve(io.cwd, args.positional("DIR"));
    const evidence = await import("@kodo/server/evidence");
    let verdict: Awaited<ReturnType<typeof evidence.verifyBundle>>;
    try {
      verdict = await evidence.verifyBundle(dir);
    } catch (error) {
      // no such directory: the argument is wrong, like a missing --prompt-file
      if ((error as { code?: unknown }).code === "NOT_FOUND") throw new UsageError(`${dir} is not a directory`, args.spec);
      throw error;
    }
    if (context.json) {
      context.printJson({ dir, ...verdict });
    } else {
      const lines = [...verdict.missing.map((file) => `missing  ${file}`), ...verdict.extra.map((file) => `extra    ${file}`), ...verdict.changed.map((file) => `changed  ${file}`)];
      for (const line of lines) io.stdout(line);
      if (verdict.ok) io.stdout(`evidence OK: ${verdict.files} files in ${dir} match the manifest and their sidecars`);
      else io.stderr(`kodo: EVIDENCE_MISMATCH: ${dir}: ${verdict.missing.length} missing, ${verdict.extra.length} extra, ${verdict.changed.length} changed`);
    }
    return verdict.ok ? ExitCode.ok : ExitCode.failed;
  },
};
