import { UsageError } from "../args.js";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const policyCheckPath: Command = {
  spec: {
    name: "policy check-path",
    group: "policy",
    summary: "Is PATH inside the directory --root? Resolved the way the kernel resolves it; no server needed.",
    synopsis: "--root DIR PATH",
    positionals: ["PATH"],
    options: {
      root: { type: "string", value: "DIR", description: "the directory PATH must stay inside (absolute or relative to the current directory)" },
    },
    client: false,
    examples: ["kodo policy check-path --root tests tests/test_slug.py", "kodo policy check-path --root tests 'tests/test_slug.py::test_empty' --json"],
  },
  async run(context) {
    const { args, io } = context;
    const root = args.string("root");
    // An empty --root is not a usage error: the check itself refuses it (ROOT_INVALID, exit 1).
    if (root === undefined) throw new UsageError("--root is required", args.spec);
    const path = args.positional("PATH");
    // Loaded lazily through a light subpath: no database, no OpenCode, no HTTP in the module graph.
    const { checkPathWithinRoot } = await import("@kodo/server/verify/scope");
    const decision = await checkPathWithinRoot({ root, path, cwd: io.cwd });
    if (context.json) {
      context.printJson({ allowed: decision.allowed, code: decision.code, reason: decision.reason, resolved: decision.resolved });
    } else {
      io.stdout(`${decision.allowed ? "allowed" : "denied"} (${decision.code}): ${decision.reason}`);
    }
    return decision.allowed ? ExitCode.ok : ExitCode.failed;
  },
};
