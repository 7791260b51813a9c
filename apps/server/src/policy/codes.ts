/**
 * The reason codes of a policy decision: one string-literal union, used by the engine, the test
 * gate, the CLI and the evidence. It includes every code of the test-scope check
 * (`verify/scope.ts`), so a `within` condition's own code can become the decision's code.
 */
import { z } from "zod";
import type { ScopeCode } from "../verify/scope.js";

/**
 * The scope check's codes as values. `ScopeCode` (a type in verify/scope.ts) is the source of
 * truth; the two assertions below fail to compile if this list and that union ever differ.
 */
const SCOPE_CODES = [
  "ALLOWED",
  "TARGET_REQUIRED",
  "TARGET_OUTSIDE_ROOTS",
  "TARGET_NOT_FOUND",
  "TARGET_INVALID",
  "SYMLINK_LOOP",
  "HARDLINK_OUTSIDE",
  "ROOT_INVALID",
  "PERMISSION_DENIED",
] as const satisfies readonly ScopeCode[];
type ListedScopeCode = (typeof SCOPE_CODES)[number];
const everyScopeCodeListed: [ScopeCode] extends [ListedScopeCode] ? true : never = true;
void everyScopeCodeListed;

/** The codes only the policy engine (and the checks it stands for) gives. */
const POLICY_CODES = [
  "DENIED_BY_DEFAULT",
  "DENIED_BY_RULE",
  "ASK_REQUIRED",
  "ARG_REQUIRED",
  "MISSION_TIMEOUT",
  "MODIFICATIONFAIL",
  "GITCLEANFAIL",
  "WORKTREE_REQUIRED",
  "DESTRUCTIVE_GIT",
  "NETWORK_DENIED",
  "POLICY_INVALID",
  // the worktree audit after an agent step (workspace/audit.ts)
  "GIT_STATE_CHANGED",
  "NESTED_REPO",
  "AUDIT_FAILED",
] as const;

export const REASON_CODES = [...SCOPE_CODES, ...POLICY_CODES] as const;

/** Every reason code, as a zod enum (the policy file's `code` field is validated with it). */
export const ReasonCodeSchema = z.enum(REASON_CODES);
export type ReasonCode = ScopeCode | (typeof POLICY_CODES)[number];
