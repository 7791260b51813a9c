import path from "node:path";
import type { CaseId, Stage } from "@kodo/server";
import { UsageError, type Args } from "../args.js";
import { ExitCode } from "../errors.js";
import type { Command } from "./command.js";

const STAGE_NAMES: readonly Stage[] = ["T1", "T2a", "T2b", "T3", "T4"];

/** `--stages T1,t2a`: each a stage name (any case); undefined when not given. */
function stagesOf(args: Args): Stage[] | undefined {
  const raw = args.string("stages");
  if (raw === undefined) return undefined;
  return raw.split(",").map((word) => {
    const stage = STAGE_NAMES.find((name) => name.toLowerCase() === word.trim().toLowerCase());
    if (stage === undefined) throw new UsageError(`--stages: unknown stage ${JSON.stringify(word.trim())} (stages: ${STAGE_NAMES.join(",")})`, args.spec);
    return stage;
  });
}

/** `--case T1C01,t2b03`: each a case id (any case); undefined when not given. */
function casesOf(args: Args, known: readonly CaseId[], isCaseId: (value: string) => value is CaseId): CaseId[] | undefined {
  const raw = args.string("case");
  if (raw === undefined) return undefined;
  return raw.split(",").map((word) => {
    const id = word.trim().toUpperCase();
    if (!isCaseId(id)) throw new UsageError(`--case: unknown case ${JSON.stringify(word.trim())} (cases: ${known.join(",")})`, args.spec);
    return id;
  });
}

function pad(text: string, width: number): string {
  return text.padEnd(width);
}

export const suiteRun: Command = {
  spec: {
    name: "suite run",
    group: "server",
    summary: "Run the 15-case dogfood suite against a repository: offline with the scripted model, or against the configured endpoint.",
    synopsis: "[--stages T1,T2a,T2b,T3,T4] [--case ID[,ID…]] [--fail-fast] [--ledger DIR] [--repo PATH | --worktree DIR] [--offline]",
    positionals: [],
    options: {
      stages: { type: "string", value: "LIST", description: "the stages to run, comma-separated (default all: T1,T2a,T2b,T3,T4); the others are skipped" },
      case: { type: "string", value: "ID", description: "run only these cases (comma-separated, e.g. T1C01,T2B03)" },
      "fail-fast": { type: "boolean", description: "stop at the first failing case; the rest count as skipped" },
      ledger: { type: "string", value: "DIR", description: "where RUN_NNNN directories go (default $KODO_HOME/suite)" },
      repo: { type: "string", value: "PATH", description: "the repository under test (default: the current directory); kodo makes a worktree of its HEAD" },
      worktree: { type: "string", value: "DIR", description: "run in this existing checkout instead (T2b and later need a kodo worktree)" },
      offline: { type: "boolean", description: "use the shipped scripted model even when KODO_MODEL_BASE_URL is set" },
    },
    client: false,
    examples: [
      "kodo suite run --fail-fast",
      "kodo suite run --stages T1,T2a --offline",
      "kodo suite run --case T2B03 --json",
      "kodo suite run --repo ~/src/app --ledger ./ledger",
    ],
  },
  async run(context) {
    const { args, io } = context;
    const stages = stagesOf(args);
    const repo = args.string("repo");
    const worktree = args.string("worktree");
    if (repo !== undefined && worktree !== undefined) throw new UsageError("--repo and --worktree exclude each other", args.spec);
    const server = await import("@kodo/server");
    const cases = casesOf(args, server.CASE_IDS, server.isCaseId);
    const selected = server.selectCases({ ...(stages === undefined ? {} : { stages }), ...(cases === undefined ? {} : { cases }) });
    if (selected.length === 0) throw new UsageError(`no case of --case is in --stages ${args.string("stages") ?? ""}`, args.spec);
    const ledger = args.string("ledger");
    const config = server.loadConfig(io.env);
    const print = (line: string): void => (context.json ? io.stderr(line) : io.stdout(line));
    print(`kodo suite: ${selected.length} of ${server.CASES.length} cases`);
    const report = await server.runSuite({
      config,
      repo: path.resolve(io.cwd, repo ?? "."),
      ...(worktree === undefined ? {} : { worktree: path.resolve(io.cwd, worktree) }),
      ...(stages === undefined ? {} : { stages }),
      ...(cases === undefined ? {} : { cases }),
      failFast: args.flag("fail-fast"),
      ...(ledger === undefined ? {} : { ledgerDir: path.resolve(io.cwd, ledger) }),
      offline: args.flag("offline"),
      log: (line) => io.stderr(`  ${line}`),
      onCase: ({ result, message }) => {
        const kase = server.CASES.find((entry) => entry.id === result.case_id);
        const outcome = `${result.actual_outcome}${result.failure_code === null ? "" : ` ${result.failure_code}`}`;
        print(`${pad(result.case_id, 6)} ${pad(result.stage, 4)} ${pad(kase?.purpose ?? "", 30)} ${pad(result.status, 4)}  ${pad(outcome, 26)} ${String(result.duration_ms).padStart(7)} ms`);
        if (result.status === "FAIL" && message !== null) print(`       ${message}`);
      },
      signal: io.interrupt,
    });
    const { summary } = report;
    if (context.json) {
      context.printJson(report);
    } else {
      io.stdout(`${summary.final_verdict}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped (${report.runId}, model ${report.model.id}${report.model.kind === "scripted" ? ", offline" : ""})`);
      if (summary.stop_reason !== null) io.stdout(`stopped: ${summary.stop_reason}`);
      io.stdout(`ledger:   ${report.runDir}`);
      io.stdout(`worktree: ${report.workspace.note}`);
    }
    if (summary.stop_reason?.startsWith("INTERRUPTED") === true) return ExitCode.interrupted;
    return summary.final_verdict === "PASS" ? ExitCode.ok : ExitCode.failed;
  },
};
