/**
 * What a case did to the tree, judged after it: in a kodo worktree, the worktree audit against a
 * snapshot taken before the case (and the restore of whatever it must not keep); in any other
 * checkout (only read-only stages run there) a content fingerprint before and after. A read-only
 * case may change nothing: any finding is GITCLEANFAIL ("the tree must stay clean").
 */
import { describeError } from "../lib/errors.js";
import { auditWorktree, restoreWorktree, takeAuditSnapshot, type AuditSnapshot } from "../workspace/audit.js";
import { fingerprintWorktree } from "../workspace/fingerprint.js";
import type { Worktree } from "../workspace/types.js";
import { FAILURE_CODES, type Access, type FailureCode } from "./cases.js";
import { auditRules } from "./policy.js";
import type { SuiteWorkspace } from "./workspace.js";

export interface GuardFinding {
  code: FailureCode;
  /** the audit's own code and kind, and what it saw */
  detail: string;
  /** false: reported only (another branch's ref moved: the user, or another run) */
  blocking: boolean;
}

export interface GuardVerdict {
  findings: GuardFinding[];
  /** what the restore did, for the evidence */
  notes: string[];
  /** something the case must not keep is still there */
  restoreFailed: boolean;
}

type Before = { kind: "audit"; snapshot: AuditSnapshot } | { kind: "fingerprint"; fingerprint: string } | { kind: "unavailable"; error: string };

export interface TreeGuard {
  before(): Promise<Before>;
  after(before: Before, access: Access): Promise<GuardVerdict>;
}

function asFailureCode(code: string): FailureCode {
  return (FAILURE_CODES as readonly string[]).includes(code) ? (code as FailureCode) : "AUDIT_FAILED";
}

function judged(code: string, access: Access): FailureCode {
  if (code === "AUDIT_FAILED") return "AUDIT_FAILED";
  return access === "read-only" ? "GITCLEANFAIL" : asFailureCode(code);
}

function auditGuard(worktree: Worktree): TreeGuard {
  return {
    async before() {
      try {
        return { kind: "audit", snapshot: await takeAuditSnapshot(worktree) };
      } catch (error) {
        return { kind: "unavailable", error: describeError(error) };
      }
    },
    async after(before, access) {
      if (before.kind !== "audit") {
        const error = before.kind === "unavailable" ? before.error : "no snapshot";
        return { findings: [{ code: "AUDIT_FAILED", detail: `the snapshot before the case failed: ${error}`, blocking: true }], notes: [], restoreFailed: false };
      }
      const report = await auditWorktree(worktree, before.snapshot, auditRules(access));
      const findings = report.findings.map((finding): GuardFinding => {
        const otherRef = finding.kind === "refs_changed" && finding.path !== `refs/heads/${worktree.branch}`;
        return {
          code: judged(finding.code, access),
          detail: `${finding.code} ${finding.kind}${finding.path === undefined ? "" : ` ${finding.path}`}: ${finding.detail}`,
          blocking: !otherRef,
        };
      });
      if (report.findings.length === 0) return { findings, notes: [], restoreFailed: false };
      const restore = await restoreWorktree(worktree, before.snapshot, report);
      const notes = [
        ...restore.restored.map((item) => `restored ${item}`),
        ...restore.removed.map((item) => `removed ${item}`),
        ...restore.failed.map((item) => `could not restore ${item.path}: ${item.error}`),
      ];
      return { findings, notes, restoreFailed: restore.failed.length > 0 };
    },
  };
}

function fingerprintGuard(directory: string): TreeGuard {
  const fingerprint = (): Promise<string> => fingerprintWorktree({ path: directory, branch: "", baseCommit: "", repoRoot: directory });
  return {
    async before() {
      try {
        return { kind: "fingerprint", fingerprint: await fingerprint() };
      } catch (error) {
        return { kind: "unavailable", error: describeError(error) };
      }
    },
    async after(before) {
      if (before.kind !== "fingerprint") {
        const error = before.kind === "unavailable" ? before.error : "no fingerprint";
        return { findings: [{ code: "AUDIT_FAILED", detail: `the fingerprint before the case failed: ${error}`, blocking: true }], notes: [], restoreFailed: false };
      }
      const now = await fingerprint().catch((error: unknown) => `unreadable: ${describeError(error)}`);
      if (now === before.fingerprint) return { findings: [], notes: [], restoreFailed: false };
      return {
        findings: [{ code: "GITCLEANFAIL", detail: `the content of ${directory} changed during a read-only case (not a kodo worktree: nothing is restored)`, blocking: true }],
        notes: [],
        restoreFailed: true,
      };
    },
  };
}

export function treeGuard(workspace: SuiteWorkspace): TreeGuard {
  return workspace.worktree === undefined ? fingerprintGuard(workspace.directory) : auditGuard(workspace.worktree);
}
