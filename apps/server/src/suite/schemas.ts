/**
 * The suite's two output documents, `cases/<id>.result.json` and `run_summary.json`, with exactly
 * the seed's fields. One zod schema each is the type and the validator; the JSON Schemas shipped
 * in `assets/suite/` are generated from them (`suiteJsonSchemas()`; a test keeps the files equal),
 * so "valid against the shipped JSON Schema" and "parses with the zod schema" are the same check.
 * The seed's PASS rule, which a JSON Schema does not say, is checked here too (`superRefine`).
 */
import { z } from "zod";
import { compareBytes } from "../evidence/sidecar.js";
import { KodoError } from "../lib/errors.js";
import { CASE_IDS, CASES, FAILURE_CODES, STAGES, verdictOf, type CaseId } from "./cases.js";

export const CASE_RESULT_SCHEMA_ID = "opencode_dogfood_case_result";
export const RUN_SUMMARY_SCHEMA_ID = "opencode_dogfood_run_summary";
export const SCHEMA_VERSION = "1.0";

const runId = z.string().regex(/^RUN_[0-9]{4}$/);
const commit = z.string().regex(/^[0-9a-f]{40}$/, "a 40-character commit id");
const failureCode = z.enum(FAILURE_CODES).nullable();
const caseId = z.string().regex(/^T[0-9][A-Z]?[A-Z]?[0-9]{2}$/);

const EvidenceEntrySchema = z.strictObject({
  /** relative to the run directory, `/`-separated */
  path: z.string().regex(/^evidence\/T[0-9][A-Z]?[A-Z]?[0-9]{2}\/[^/]+$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

function sortedByPath(entries: readonly { path: string }[]): boolean {
  return entries.every((entry, index) => index === 0 || compareBytes(entries[index - 1]?.path ?? "", entry.path) < 0);
}

function caseOf(id: string): (typeof CASES)[number] | undefined {
  return CASES.find((kase) => kase.id === id);
}

export const CaseResultSchema = z
  .strictObject({
    schema_id: z.literal(CASE_RESULT_SCHEMA_ID),
    schema_version: z.literal(SCHEMA_VERSION),
    case_id: caseId,
    stage: z.enum(STAGES),
    expected_outcome: z.enum(["SUCCESS", "EXPECTED_FAIL"]),
    actual_outcome: z.enum(["SUCCESS", "FAIL"]),
    status: z.enum(["PASS", "FAIL"]),
    /** null exactly when the case expected SUCCESS and got it */
    failure_code: failureCode,
    run_id: runId,
    duration_ms: z.number().int().nonnegative(),
    model_id: z.string().min(1).nullable(),
    transport: z.string().min(1).nullable(),
    repo_commit: commit,
    evidence: z.array(EvidenceEntrySchema),
  })
  .meta({ title: "kodo dogfood suite: case result", description: "cases/<case_id>.result.json of one kodo suite run (seed 002)" })
  .superRefine((result, context) => {
    const kase = caseOf(result.case_id);
    if (kase === undefined) {
      context.addIssue({ code: "custom", path: ["case_id"], message: `unknown case ${result.case_id}` });
      return;
    }
    if (kase.stage !== result.stage || kase.expected !== result.expected_outcome) {
      context.addIssue({ code: "custom", path: ["stage"], message: `${kase.id} is ${kase.stage}/${kase.expected}` });
    }
    if (verdictOf(kase, result.actual_outcome, result.failure_code) !== result.status) {
      context.addIssue({ code: "custom", path: ["status"], message: "status does not follow from the outcome and the failure code" });
    }
    const needsCode = result.actual_outcome === "FAIL" || result.expected_outcome === "EXPECTED_FAIL";
    if (needsCode !== (result.failure_code !== null)) {
      context.addIssue({ code: "custom", path: ["failure_code"], message: "failure_code is set exactly for a FAIL or an EXPECTED_FAIL case" });
    }
    if (!sortedByPath(result.evidence)) context.addIssue({ code: "custom", path: ["evidence"], message: "evidence must be sorted by path (LC_ALL=C)" });
  });
export type CaseResult = z.infer<typeof CaseResultSchema>;

const CaseSummarySchema = z.strictObject({
  case_id: caseId,
  stage: z.enum(STAGES),
  expected_outcome: z.enum(["SUCCESS", "EXPECTED_FAIL"]),
  /** null when the case was skipped */
  actual_outcome: z.enum(["SUCCESS", "FAIL"]).nullable(),
  status: z.enum(["PASS", "FAIL", "SKIPPED"]),
  failure_code: failureCode,
  /** `cases/<case_id>.result.json`, or null when skipped */
  result: z.string().regex(/^cases\/T[0-9][A-Z]?[A-Z]?[0-9]{2}\.result\.json$/).nullable(),
});

export const RunSummarySchema = z
  .strictObject({
    schema_id: z.literal(RUN_SUMMARY_SCHEMA_ID),
    schema_version: z.literal(SCHEMA_VERSION),
    run_id: runId,
    repo_commit: commit,
    total_cases: z.number().int().nonnegative(),
    passed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    final_verdict: z.enum(["PASS", "FAIL"]),
    /** why the run stopped early; null when it did not */
    stop_reason: z.string().min(1).nullable(),
    cases: z.array(CaseSummarySchema),
  })
  .meta({ title: "kodo dogfood suite: run summary", description: "run_summary.json of one kodo suite run (seed 002)" })
  .superRefine((summary, context) => {
    const count = (status: string): number => summary.cases.filter((entry) => entry.status === status).length;
    if (summary.total_cases !== summary.cases.length || summary.passed + summary.failed + summary.skipped !== summary.total_cases) {
      context.addIssue({ code: "custom", path: ["total_cases"], message: "passed + failed + skipped must equal total_cases, one entry per case" });
    }
    if (summary.passed !== count("PASS") || summary.failed !== count("FAIL") || summary.skipped !== count("SKIPPED")) {
      context.addIssue({ code: "custom", path: ["passed"], message: "the totals do not match the cases" });
    }
    const ids = summary.cases.map((entry) => entry.case_id);
    if (ids.join() !== CASE_IDS.join()) context.addIssue({ code: "custom", path: ["cases"], message: `cases must be the ${CASE_IDS.length} cases in order` });
    const verdict = summary.failed === 0 && summary.stop_reason === null ? "PASS" : "FAIL";
    if (summary.final_verdict !== verdict) context.addIssue({ code: "custom", path: ["final_verdict"], message: `final_verdict must be ${verdict}` });
  });
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** The shipped JSON Schema files, by file name, as generated from the zod schemas. */
export function suiteJsonSchemas(): Record<string, Record<string, unknown>> {
  const generate = (schema: z.ZodType, id: string): Record<string, unknown> => {
    const { $schema, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
    return { $schema, $id: `https://kodo.invalid/schemas/${id}.schema.json`, ...rest };
  };
  return {
    "case-result.schema.json": generate(CaseResultSchema, CASE_RESULT_SCHEMA_ID),
    "run-summary.schema.json": generate(RunSummarySchema, RUN_SUMMARY_SCHEMA_ID),
  };
}

/** Parses `value` with `schema` or throws INTERNAL naming every problem: kodo never writes an invalid document. */
export function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new KodoError("INTERNAL", `${what} does not match its schema: ${problems.join("; ")}`, { details: { problems } });
}

export function resultPath(id: CaseId): string {
  return `cases/${id}.result.json`;
}
