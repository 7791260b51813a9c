/**
 * The policy file: `{ version: 1, extends?, rules }`. One zod schema is the type and the
 * validator; load.ts turns its issues into `file:line:col: path: message` errors.
 */
import { z } from "zod";
import { ReasonCodeSchema } from "./codes.js";

/** Roots may name the request's context: `$testRoots`, `$writeRoots`. Others are relative to the worktree. */
export const ROOT_PLACEHOLDERS = ["$testRoots", "$writeRoots"] as const;

const Within = z.strictObject({
  roots: z
    .array(
      z
        .string()
        .min(1, "a root must not be empty")
        .refine((root) => !root.startsWith("$") || (ROOT_PLACEHOLDERS as readonly string[]).includes(root), {
          error: `a root starting with "$" must be one of ${ROOT_PLACEHOLDERS.join(", ")}`,
        }),
    )
    .min(1, "at least one root"),
  /** a missing path inside a root still holds (a file about to be created); default false */
  allowMissing: z.boolean().optional(),
});

function regexProblem(pattern: string): string | null {
  try {
    new RegExp(pattern);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const MATCHERS = ["equals", "glob", "regex", "within"] as const;

export const ConditionSchema = z
  .strictObject({
    arg: z.string().min(1, "the argument name must not be empty"),
    equals: z.string().optional(),
    glob: z.string().min(1, "a glob must not be empty").optional(),
    regex: z
      .string()
      .min(1, "a regex must not be empty")
      .refine((pattern) => regexProblem(pattern) === null, { error: (issue) => `not a valid regular expression: ${regexProblem(String(issue.input))}` })
      .optional(),
    within: Within.optional(),
    /** the condition holds when the matcher does not (fails closed for `within`: any refusal counts as outside) */
    not: z.boolean().optional(),
  })
  .superRefine((condition, context) => {
    const given = MATCHERS.filter((matcher) => condition[matcher] !== undefined);
    if (given.length !== 1) {
      context.addIssue({
        code: "custom",
        message: `a condition needs exactly one of ${MATCHERS.join(", ")}${given.length === 0 ? "" : ` (got ${given.join(", ")})`}`,
      });
    }
  });
export type Condition = z.infer<typeof ConditionSchema>;

export const EffectSchema = z.enum(["allow", "deny", "ask"]);
export type Effect = z.infer<typeof EffectSchema>;

export const RuleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "an id is letters, digits, '.', '_' or '-'"),
    tool: z.string().min(1, "tool must not be empty (use \"*\" for any)"),
    action: z.string().min(1, "action must not be empty (use \"*\" for any)"),
    when: z.array(ConditionSchema).optional(),
    effect: EffectSchema,
    code: ReasonCodeSchema.optional(),
    reason: z.string().optional(),
    requires: z.array(z.string().min(1, "an argument name must not be empty")).optional(),
  })
  .superRefine((rule, context) => {
    if (rule.code === undefined) return;
    if (rule.effect === "allow" && rule.code !== "ALLOWED") {
      context.addIssue({ code: "custom", path: ["code"], message: `an allow rule's code can only be ALLOWED, got ${rule.code}` });
    }
    if (rule.effect !== "allow" && rule.code === "ALLOWED") {
      context.addIssue({ code: "custom", path: ["code"], message: `a ${rule.effect} rule cannot have the code ALLOWED` });
    }
  });
export type Rule = z.infer<typeof RuleSchema>;

/** What the worktree audit after each agent step may let pass (docs/policy.md). */
export const AuditSettingsSchema = z.strictObject({
  /** finding codes that are reported (and restored) but do not fail the run */
  warn: z.array(ReasonCodeSchema).optional(),
  /** paths (globs relative to the worktree) the agent may delete; none by default */
  allowDeletions: z
    .array(
      z
        .string()
        .min(1, "a path must not be empty")
        .refine((glob) => !glob.startsWith("/") && !glob.split("/").includes(".."), { error: "a path is relative to the worktree, without .." }),
    )
    .optional(),
});
export type AuditSettings = z.infer<typeof AuditSettingsSchema>;

export const PolicySchema = z
  .strictObject({
    version: z.literal(1),
    extends: z.enum(["defaults", "none"]).optional(),
    rules: z.array(RuleSchema),
    audit: AuditSettingsSchema.optional(),
  })
  .superRefine((policy, context) => {
    const seen = new Map<string, number>();
    policy.rules.forEach((rule, index) => {
      const first = seen.get(rule.id);
      if (first === undefined) seen.set(rule.id, index);
      else context.addIssue({ code: "custom", path: ["rules", index, "id"], message: `duplicate rule id ${JSON.stringify(rule.id)} (first used by rules[${first}])` });
    });
  });
export type Policy = z.infer<typeof PolicySchema>;
