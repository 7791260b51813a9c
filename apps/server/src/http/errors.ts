import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import { KodoError, describeError, type ErrorCode } from "../lib/errors.js";

const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  GOVERNANCE_NOT_CONFIGURED: 409,
  GOVERNANCE_EXISTS: 409,
  PROPOSAL_NOT_PENDING: 409,
  VOTE_CONFLICT: 409,
  PLAN_QUORUM_REQUIRED: 409,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RUN_NOT_WAITING: 409,
  RUN_ALREADY_ACTIVE: 409,
  RUN_NOT_ACTIVE: 409,
  APPROVAL_NOT_PENDING: 409,
  REPO_NOT_FOUND: 422,
  REPO_NOT_GIT: 422,
  BASE_REF_NOT_FOUND: 422,
  REPO_DIRTY: 422,
  DB_UNAVAILABLE: 503,
  AGENT_UNAVAILABLE: 503,
};

export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? 500;
}

export function validationError(error: ZodError): KodoError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
  const first = issues[0];
  return new KodoError("VALIDATION_FAILED", first === undefined ? "invalid request" : `${first.path || "body"}: ${first.message}`, {
    details: { issues },
  });
}

/** The one error shape on the wire: `{ error: { code, message, retryable, details? } }`. */
export function errorResponse(c: Context, error: unknown): Response {
  const kodo =
    error instanceof KodoError
      ? error
      : error instanceof ZodError
        ? validationError(error)
        : new KodoError("INTERNAL", `internal error: ${describeError(error)}`);
  return c.json({ error: kodo.toJSON() }, statusOf(kodo.code));
}
