/**
 * What the agent may do during the suite: the seed's write allowlist and empty deletion allowlist,
 * as kodo's three layers see them — the policy (the shipped task layer `assets/suite/policy.json`
 * over kodo's defaults), the session rules derived from it, and the worktree audit's rules.
 */
import { fileURLToPath } from "node:url";
import path from "node:path";
import { loadPolicy } from "../policy/load.js";
import { resolvePolicy } from "../policy/layers.js";
import type { PolicyContext, ResolvedPolicy } from "../policy/types.js";
import type { AuditRules } from "../workspace/audit-types.js";
import type { Access } from "./cases.js";

/** The shipped suite assets: model script, policy, JSON Schemas and the fixtures. */
export const SUITE_ASSETS = fileURLToPath(new URL("../../assets/suite/", import.meta.url));
export const SUITE_FIXTURES = path.join(SUITE_ASSETS, "fixtures");
export const SUITE_MODEL_SCRIPT = path.join(SUITE_ASSETS, "model-script.json");
export const SUITE_POLICY_FILE = path.join(SUITE_ASSETS, "policy.json");

/** Paths of the fixtures in the tree under test (relative, `/`-separated). */
export const PROBE_DOC = "docs/zz_scratch/opencode_dogfood_probe.md";
export const SCRATCH_DIR = "docs/zz_scratch";
export const POLICY_DOC = "scripts/opencode_dogfood/POLICY.md";
export const SANDBOX_DIR = "scripts/opencode_dogfood/sandbox";
export const FIXTURES_DIR = `${SANDBOX_DIR}/fixtures`;
export const DELETION_SENTINEL = `${FIXTURES_DIR}/deletion_sentinel.txt`;
export const BUGGY_SUM = `${FIXTURES_DIR}/buggy_sum.mjs`;
export const BUGGY_SUM_TEST = `${FIXTURES_DIR}/buggy_sum.test.mjs`;
export const WORD_COUNT = `${FIXTURES_DIR}/word_count.mjs`;
export const REVIEW_TARGET = `${FIXTURES_DIR}/review_target.mjs`;
export const GENERATED_FUNCTION = `${SANDBOX_DIR}/slugify.mjs`;
export const GENERATED_TEST = `${SANDBOX_DIR}/word_count.test.mjs`;

/**
 * The seed's write allowlist. Its two other entries (`artifacts/ledger/opencode_dogfood/`,
 * `logs/agent_calls/`) are where the seed's runner writes its own output; kodo writes its ledger
 * outside the tree, so the agent gets neither.
 */
export const WRITE_ALLOWLIST: readonly string[] = [PROBE_DOC, SANDBOX_DIR];
/** The seed's deletion allowlist: empty. */
export const DELETION_ALLOWLIST: readonly string[] = [];

/** kodo's default rules with the suite's task layer on top (deletion commands → GITCLEANFAIL, …). */
export async function suitePolicy(): Promise<ResolvedPolicy> {
  return resolvePolicy({ taskPolicy: await loadPolicy(SUITE_POLICY_FILE) });
}

/**
 * The policy's context for a case in `directory`. Write roots must be existing directories for
 * the policy's kernel-style `within` check, so the probe's directory stands in for the probe; the
 * suite's rule `suite-scratch-probe-only` narrows it back to the one file.
 */
export function policyContext(directory: string): PolicyContext & { worktree: string } {
  return { worktree: directory, writeRoots: [SCRATCH_DIR, SANDBOX_DIR], testRoots: [] };
}

/** The worktree audit's rules: a read-only case may change nothing; a writing case the allowlist. */
export function auditRules(access: Access): AuditRules {
  return access === "read-only"
    ? { writeRoots: [], deletionAllowlist: [] }
    : { writeRoots: [...WRITE_ALLOWLIST], deletionAllowlist: [...DELETION_ALLOWLIST] };
}
