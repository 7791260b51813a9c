/**
 * Policy fixtures: a folder of `*.json` files, each a request and the decision it must get.
 * `kodo policy test DIR` runs them; any mismatch fails. A fixture:
 *
 *   { "name": "…", "policy"?: <inline policy> | "file.yaml" (relative to the fixture),
 *     "request": { "tool", "action", "args"?, "context"?: { "worktree"? (relative to the
 *                  fixture), "testRoots"?, "writeRoots"? } },
 *     "expect": { "allowed", "code", "effect"?, "matchedRules"? } }
 *
 * The fixture's policy is layered as the repo policy over the defaults (unless it says
 * `extends: "none"`). An invalid policy denies everything with POLICY_INVALID, so a fixture can
 * expect that code to prove a broken policy file is refused.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { describeError, isKodoError } from "../lib/errors.js";
import { ReasonCodeSchema } from "./codes.js";
import { evaluate } from "./evaluate.js";
import { resolvePolicy } from "./layers.js";
import { formatField, loadPolicy } from "./load.js";
import { EffectSchema, PolicySchema, type Policy } from "./schema.js";
import type { PolicyDecision } from "./types.js";

const FixtureSchema = z.strictObject({
  name: z.string().min(1),
  policy: z.union([z.string().min(1), z.unknown()]).optional(),
  request: z.strictObject({
    tool: z.string(),
    action: z.string(),
    args: z.record(z.string(), z.string()).optional(),
    context: z
      .strictObject({
        worktree: z.string().optional(),
        testRoots: z.array(z.string()).optional(),
        writeRoots: z.array(z.string()).optional(),
      })
      .optional(),
  }),
  expect: z.strictObject({
    allowed: z.boolean(),
    code: ReasonCodeSchema,
    effect: EffectSchema.optional(),
    matchedRules: z.array(z.string()).optional(),
  }),
});
type Fixture = z.infer<typeof FixtureSchema>;

export interface FixtureResult {
  file: string;
  name: string;
  ok: boolean;
  /** what differed, or why the fixture could not be run */
  problems: string[];
  expected?: Fixture["expect"];
  actual?: PolicyDecision;
}

export interface FixtureReport {
  results: FixtureResult[];
  passed: number;
  failed: number;
}

function invalidPolicy(message: string): PolicyDecision {
  return { allowed: false, effect: "deny", code: "POLICY_INVALID", decisionReason: message, matchedRules: [] };
}

async function fixturePolicy(fixture: Fixture, dir: string): Promise<Policy | string | undefined> {
  if (fixture.policy === undefined) return undefined;
  try {
    if (typeof fixture.policy === "string") return await loadPolicy(path.resolve(dir, fixture.policy));
  } catch (error) {
    return isKodoError(error) && error.code === "POLICY_INVALID" ? error.message : `cannot load the policy: ${describeError(error)}`;
  }
  const parsed = PolicySchema.safeParse(fixture.policy);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  return `policy.${formatField(issue?.path.filter((segment) => typeof segment !== "symbol") ?? [])}: ${issue?.message ?? "invalid"}`;
}

function compare(expected: Fixture["expect"], actual: PolicyDecision): string[] {
  const problems: string[] = [];
  if (expected.allowed !== actual.allowed) problems.push(`allowed: expected ${expected.allowed}, got ${actual.allowed}`);
  if (expected.code !== actual.code) problems.push(`code: expected ${expected.code}, got ${actual.code}`);
  if (expected.effect !== undefined && expected.effect !== actual.effect) problems.push(`effect: expected ${expected.effect}, got ${actual.effect}`);
  if (expected.matchedRules !== undefined && JSON.stringify(expected.matchedRules) !== JSON.stringify(actual.matchedRules)) {
    problems.push(`matchedRules: expected ${JSON.stringify(expected.matchedRules)}, got ${JSON.stringify(actual.matchedRules)}`);
  }
  return problems;
}

async function runFixture(file: string, dir: string): Promise<FixtureResult> {
  const shown = path.basename(file);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8")) as unknown;
  } catch (error) {
    return { file: shown, name: shown, ok: false, problems: [`not a readable JSON file: ${describeError(error)}`] };
  }
  const parsed = FixtureSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${formatField(issue.path.filter((segment) => typeof segment !== "symbol"))}: ${issue.message}`);
    return { file: shown, name: shown, ok: false, problems: problems.map((problem) => `not a valid fixture: ${problem}`) };
  }
  const fixture = parsed.data;
  const policy = await fixturePolicy(fixture, dir);
  const context = fixture.request.context;
  const actual =
    typeof policy === "string"
      ? invalidPolicy(policy)
      : await evaluate(resolvePolicy(policy === undefined ? {} : { repoPolicy: policy }), {
          tool: fixture.request.tool,
          action: fixture.request.action,
          args: fixture.request.args ?? {},
          context: {
            ...(context?.worktree === undefined ? {} : { worktree: path.resolve(dir, context.worktree) }),
            ...(context?.testRoots === undefined ? {} : { testRoots: context.testRoots }),
            ...(context?.writeRoots === undefined ? {} : { writeRoots: context.writeRoots }),
          },
        });
  const problems = compare(fixture.expect, actual);
  return { file: shown, name: fixture.name, ok: problems.length === 0, problems, expected: fixture.expect, actual };
}

/** Runs every `*.json` fixture directly in `dir`, in name order. Throws (ENOENT, ENOTDIR) if `dir` cannot be read. */
export async function runFixtures(dir: string): Promise<FixtureReport> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json"))
    .map((entry) => entry.name)
    .sort();
  const results: FixtureResult[] = [];
  for (const name of names) results.push(await runFixture(path.join(dir, name), dir));
  const passed = results.filter((result) => result.ok).length;
  return { results, passed, failed: results.length - passed };
}
