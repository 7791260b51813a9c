import path from "node:path";
import { TestRunner } from "@kodo/contracts";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

export const repoSettings: Command = {
  spec: {
    name: "repo settings",
    group: "policy",
    summary: "Show or set a repository's settings: the test roots that verification targets must lie in, and its test runner.",
    synopsis: "--repo PATH [--test-roots DIR,DIR…] [--test-runner R]",
    positionals: [],
    options: {
      repo: { type: "string", value: "PATH", description: "the git repository (resolved against the current directory)" },
      "test-roots": { type: "string", value: "DIRS", description: "comma-separated directories, relative to the repository root (replaces the stored list)" },
      "test-runner": { type: "string", value: "R", description: `the default runner (${TestRunner.options.join(", ")})` },
    },
    client: true,
    examples: ["kodo repo settings --repo .", "kodo repo settings --repo . --test-roots tests,runtime/tests --test-runner pytest"],
  },
  async run(context) {
    const { args, io } = context;
    const repoPath = path.resolve(io.cwd, args.requireString("repo"));
    const roots = args.string("test-roots");
    const runner = args.oneOf("test-runner", TestRunner.options);
    const client = await context.client();
    const settings =
      roots === undefined && runner === undefined
        ? await client.repoSettings(repoPath)
        : await client.putRepoSettings({
            repoPath,
            testRoots: roots === undefined ? (await client.repoSettings(repoPath)).testRoots : roots.split(",").map((root) => root.trim()).filter((root) => root !== ""),
            ...(runner === undefined ? {} : { runner }),
          });
    if (context.json) {
      context.printJson(settings);
    } else {
      io.stdout(`repository   ${settings.repoPath}`);
      io.stdout(`test roots   ${settings.testRoots.length === 0 ? "(none: no test target is allowed)" : settings.testRoots.join(", ")}`);
      io.stdout(`test runner  ${settings.runner ?? "(detected)"}`);
    }
    return ExitCode.ok;
  },
};
