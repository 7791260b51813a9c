/**
 * The task file of `kodo ci run`: one task, JSON or YAML. A bad file is TASK_FILE_INVALID with
 * `<file>:<line>:<col>: <field>: <message>` (the policy loader's locating code).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { Budget, PlanApprovalMode, VerifyConfig } from "@kodo/contracts";
import { KodoError } from "../lib/errors.js";
import { describeProblems, formatOf, parseLocated, type PolicyFormat } from "../policy/load.js";
import { PolicySchema } from "../policy/schema.js";

export const CiTaskFile = z
  .object({
    version: z.literal(1).default(1),
    /** the repository, relative to the task file's directory (or absolute) */
    repo: z.string().trim().min(1, "repo must name the repository's path"),
    baseRef: z.string().min(1).max(250).default("HEAD"),
    title: z.string().trim().min(1, "title must not be empty").max(200),
    prompt: z.string().trim().min(1, "prompt must not be empty").max(100_000),
    /** CI has nobody to approve a plan: `auto` unless the file says otherwise */
    planApproval: PlanApprovalMode.default("auto"),
    planDecisionTimeoutSeconds: z.number().int().positive().max(30 * 24 * 3600).optional(),
    approvalTimeoutSeconds: z.number().int().positive().max(7 * 24 * 3600).optional(),
    /** the task's own policy layer (docs/policy.md), over the repository's and the defaults */
    policy: PolicySchema.optional(),
    budget: Budget.optional(),
    /** the build → test → fix loop; `testRoots` (and `runner`) also become the repository's settings */
    verify: VerifyConfig.extend({ testRoots: z.array(z.string().trim().min(1)).max(50).optional() }).strict().optional(),
  })
  .strict();
export type CiTaskFile = z.infer<typeof CiTaskFile>;

export interface LoadedTaskFile {
  file: string;
  /** the repository path, resolved against the task file's directory */
  repoPath: string;
  task: CiTaskFile;
}

function formatFor(file: string, text: string): PolicyFormat {
  return formatOf(file) ?? (text.trimStart().startsWith("{") ? "json" : "yaml");
}

/** Reads and validates a task file: `.json` is JSON, `.yaml`/`.yml` YAML, anything else by its first character. */
export async function loadTaskFile(file: string): Promise<LoadedTaskFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    throw new KodoError("TASK_FILE_INVALID", `${file}: cannot read the task file (${code})`, { details: { file }, cause: error });
  }
  const parsed = parseLocated(text, formatFor(file, text), CiTaskFile);
  if (!parsed.ok) {
    throw new KodoError("TASK_FILE_INVALID", describeProblems(file, parsed.problems, "task file"), {
      details: { file, problems: parsed.problems.map((problem) => ({ ...problem })) },
    });
  }
  return { file, repoPath: path.resolve(path.dirname(file), parsed.value.repo), task: parsed.value };
}
