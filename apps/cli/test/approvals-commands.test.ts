/**
 * `kodo approvals` and `kodo answer` against a stand-in API: the requests they send, their --json
 * documents, their human lines, and their exit codes (usage 2, not found 3, conflict 4).
 */
import { Approval, type Approval as ApprovalType } from "@kodo/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { sendJson, startHttpStub, type HttpStub } from "./support/http-stub.js";
import { memoryIo, type MemoryIo } from "./support/memory-io.js";

function makeApproval(overrides: Partial<ApprovalType> = {}): ApprovalType {
  return Approval.parse({
    id: "apr_abc123def",
    runId: "run_abc123",
    taskId: "tsk_abc123",
    sessionId: "ses_1",
    kind: "permission",
    requestId: "per_1",
    permission: "bash",
    patterns: ["npm install left-pad"],
    metadata: { command: "npm install left-pad" },
    questions: null,
    decidedByPolicy: { action: "ask", code: "ASK", reason: "installs need a person", matchedRules: ["npm-install"] },
    status: "pending",
    decision: null,
    message: null,
    answeredBy: null,
    serverInstance: "host:/h#t:1",
    createdAt: "2026-01-05T10:00:00.000Z",
    deadlineAt: "2026-01-05T10:15:00.000Z",
    answeredAt: null,
    deliveredAt: null,
    deliveryError: null,
    ...overrides,
  });
}

describe("kodo approvals / kodo answer", { timeout: 15_000 }, () => {
  let stub: HttpStub;
  let io: MemoryIo;
  let approval: ApprovalType;
  const kodo = (...argv: string[]) => runCli(argv, io);

  beforeEach(async () => {
    approval = makeApproval();
    stub = await startHttpStub((request, response) => {
      const url = new URL(request.path, "http://stub");
      if (request.method === "GET" && url.pathname === "/api/approvals") return sendJson(response, 200, { approvals: [approval] });
      if (request.method === "POST" && url.pathname === `/api/approvals/${approval.id}`) {
        const body = JSON.parse(request.body) as { decision: "once" | "always" | "reject"; message?: string };
        if (approval.status !== "pending") {
          return sendJson(response, 409, { error: { code: "APPROVAL_NOT_PENDING", message: `approval ${approval.id} is answered (once by api), not pending` } });
        }
        approval = { ...approval, status: "answered", decision: body.decision, message: body.message ?? null, answeredBy: "api" };
        return sendJson(response, 200, approval);
      }
      return sendJson(response, 404, { error: { code: "NOT_FOUND", message: `approval ${url.pathname.split("/").at(-1) ?? ""} not found` } });
    });
    io = memoryIo({ KODO_URL: stub.url, KODO_HOME: "/nonexistent" });
  });
  afterEach(async () => {
    await stub.close();
  });

  it("approvals lists pending asks (filters go to the query) with a hint how to answer", async () => {
    expect(await kodo("approvals", "--run", "run_abc123", "--status", "ALL", "--json")).toBe(0);
    expect(io.json()).toEqual({ approvals: [approval] });
    expect(stub.requests[0]?.path).toBe("/api/approvals?status=all&runId=run_abc123");
    io.out.length = 0;
    expect(await kodo("approvals")).toBe(0);
    expect(stub.requests[1]?.path).toBe("/api/approvals");
    expect(io.out[0]).toMatch(/^ID\s+RUN\s+DEADLINE\s+STATE\s+ASK$/);
    expect(io.out[1]).toContain("apr_abc123def");
    expect(io.out[1]).toContain("bash npm install left-pad");
    expect(io.out.at(-1)).toBe("answer with: kodo answer APPROVAL_ID once|always|reject [--message TEXT]");
    expect(await kodo("approvals", "--status", "maybe")).toBe(2);
  });

  it("answer sends the decision and message; a second, different answer is a conflict (exit 4)", async () => {
    expect(await kodo("answer", "apr_abc123def", "reject", "--message", "use what is installed", "--as", "alice", "--json")).toBe(0);
    expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ decision: "reject", message: "use what is installed" });
    expect(stub.requests[0]?.headers["x-kodo-actor"]).toBe("alice");
    expect(Approval.parse(io.json())).toMatchObject({ status: "answered", decision: "reject" });
    expect(await kodo("answer", "apr_abc123def", "once")).toBe(4);
    expect(io.err.at(-1)).toBe("kodo: APPROVAL_NOT_PENDING: approval apr_abc123def is answered (once by api), not pending");
  });

  it("answer checks its arguments before any request (exit 2), and an unknown id is exit 3", async () => {
    expect(await kodo("answer", "apr_abc123def", "maybe")).toBe(2);
    expect(io.err[0]).toBe('kodo: USAGE: the decision must be one of once, always, reject, got "maybe"');
    expect(await kodo("answer", "apr_abc123def")).toBe(2);
    expect(stub.requests).toEqual([]);
    expect(await kodo("answer", "apr_nope12345", "ONCE")).toBe(3);
    expect(JSON.parse(stub.requests[0]?.body ?? "")).toEqual({ decision: "once" });
  });
});
