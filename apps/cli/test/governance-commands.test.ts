import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Governance, Proposal, type Proposal as ProposalType } from "@kodo/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { sendJson, startHttpStub, type HttpStub } from "./support/http-stub.js";
import { memoryIo, type MemoryIo } from "./support/memory-io.js";

const AT = "2025-01-02T03:04:05.000Z";

function makeProposal(overrides: Partial<ProposalType> = {}): ProposalType {
  return {
    id: "prp_abc12345",
    repoPath: "/work/repo",
    kind: "capability",
    payload: { capabilities: { tests: true } },
    approvers: ["alice", "bob", "carol"],
    required: 2,
    blockingConditions: [{ id: "sec", description: "security reviewed it" }],
    status: "pending",
    version: null,
    createdBy: "alice",
    createdAt: AT,
    decidedAt: null,
    reason: null,
    votes: [],
    tally: { code: "AWAITING_VOTES", reason: "0 of 2 required approvals", approvals: 0, rejections: 0, outstanding: ["alice", "bob", "carol"], required: 2, unmetConditions: ["sec"] },
    ...overrides,
  };
}

const GOVERNANCE: Governance = {
  repoPath: "/work/repo",
  approvers: ["alice", "bob", "carol"],
  required: 2,
  planQuorum: { approvers: ["alice", "bob"], required: 2 },
  version: 1,
  proposalId: null,
  updatedBy: "admin",
  updatedAt: AT,
};

describe("governance commands against a stub API", { timeout: 15_000 }, () => {
  let stub: HttpStub;
  let io: MemoryIo;
  const kodo = (...argv: string[]) => runCli(argv, io);
  const lastBody = (): unknown => JSON.parse(stub.requests.at(-1)?.body ?? "null");

  beforeEach(async () => {
    stub = await startHttpStub((request, response) => {
      const url = new URL(request.path, "http://stub");
      if (url.pathname === "/api/repos/governance") return sendJson(response, 200, GOVERNANCE);
      if (url.pathname === "/api/proposals" && request.method === "POST") {
        const body = JSON.parse(request.body) as { kind: ProposalType["kind"]; payload: Record<string, unknown> };
        return sendJson(response, 201, makeProposal({ kind: body.kind, payload: body.payload }));
      }
      if (url.pathname === "/api/proposals") return sendJson(response, 200, { proposals: [makeProposal(), makeProposal({ id: "prp_def67890", status: "active", version: 1 })] });
      if (url.pathname.endsWith("/votes")) {
        if (request.headers["x-kodo-actor"] === "mallory") return sendJson(response, 403, { error: { code: "FORBIDDEN", message: "mallory is not an approver" } });
        return sendJson(response, 200, makeProposal({ status: "active", votes: [{ approver: String(request.headers["x-kodo-actor"]), vote: "approve", conditions: { sec: true }, comment: null, votedAt: AT, amendedAt: null }] }));
      }
      return sendJson(response, 404, { error: { code: "NOT_FOUND", message: "no route" } });
    });
    io = memoryIo({ KODO_URL: stub.url, KODO_HOME: "/nonexistent" }, "/work");
  });
  afterEach(async () => {
    await stub.close();
  });

  it("governance set sends the quorum rules and --as as X-Kodo-Actor", async () => {
    expect(await kodo("governance", "set", "--repo", "repo", "--approvers", "alice, bob,carol", "--required", "2", "--plan-approvers", "alice,bob", "--plan-required", "2", "--as", "admin", "--json")).toBe(0);
    expect(Governance.parse(io.json()).version).toBe(1);
    const request = stub.requests[0];
    expect(request?.method).toBe("PUT");
    expect(request?.headers["x-kodo-actor"]).toBe("admin");
    expect(lastBody()).toEqual({ repoPath: "/work/repo", approvers: ["alice", "bob", "carol"], required: 2, planQuorum: { approvers: ["alice", "bob"], required: 2 } });
  });

  it("refuses bad quorum options and bad names before any request (exit 2)", async () => {
    expect(await kodo("governance", "set", "--repo", ".", "--approvers", "alice,bob", "--required", "3")).toBe(2);
    expect(await kodo("governance", "set", "--repo", ".", "--approvers", "alice", "--required", "1", "--plan-approvers", "alice")).toBe(2);
    expect(await kodo("governance", "set", "--repo", ".", "--approvers", "alice", "--required", "1", "--as", "alice smith")).toBe(2);
    expect(io.err.some((line) => line.startsWith("kodo: USAGE: --as:"))).toBe(true);
    expect(stub.requests).toEqual([]);
  });

  it("propose sends each kind's payload with its blocking conditions", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kodo-cli-gov-"));
    try {
      await writeFile(path.join(dir, "policy.yaml"), "version: 1\nrules: []\n");
      io = memoryIo({ KODO_URL: stub.url }, dir);
      expect(await kodo("propose", "policy", "--repo", ".", "--file", "policy.yaml", "--condition", 'sec="security reviewed it"', "--as", "alice", "--json")).toBe(0);
      expect(lastBody()).toEqual({
        repoPath: dir,
        kind: "policy",
        payload: { source: "version: 1\nrules: []\n", format: "yaml", file: "policy.yaml" },
        blockingConditions: [{ id: "sec", description: "security reviewed it" }],
      });
      expect(Proposal.parse(io.json()).kind).toBe("policy");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(await kodo("propose", "write-allowlist", "--repo", "/r", "--paths", "src, test", "--json")).toBe(0);
    expect(lastBody()).toEqual({ repoPath: "/r", kind: "write_allowlist", payload: { paths: ["src", "test"] } });
    expect(await kodo("propose", "capability", "--repo", "/r", "--enable", "tests", "--disable", "network", "--json")).toBe(0);
    expect(lastBody()).toEqual({ repoPath: "/r", kind: "capability", payload: { capabilities: { tests: true, network: false } } });
    const requests = stub.requests.length;
    expect(await kodo("propose", "capability", "--repo", "/r", "--enable", "root")).toBe(2);
    expect(await kodo("propose", "capability", "--repo", "/r", "--enable", "tests", "--condition", "no-equals-sign")).toBe(2);
    expect(stub.requests.length).toBe(requests);
  });

  it("proposals lists with filters; the table shows votes of required", async () => {
    expect(await kodo("proposals", "--repo", "/r", "--status", "pending")).toBe(0);
    expect(stub.requests[0]?.path).toBe("/api/proposals?repoPath=%2Fr&status=pending");
    expect(io.out[0]).toMatch(/^ID\s+STATUS\s+KIND\s+VOTES/);
    expect(io.out[1]).toMatch(/^prp_abc12345\s+pending\s+capability\s+0\/2/);
  });

  it("vote needs --as and approve|reject; sends the vote with condition marks", async () => {
    expect(await kodo("vote", "prp_abc12345", "approve")).toBe(2);
    expect(await kodo("vote", "prp_abc12345", "maybe", "--as", "alice")).toBe(2);
    expect(await kodo("vote", "prp_abc12345", "approve", "--as", "alice", "--met", "sec", "--unmet", "sec")).toBe(2);
    expect(stub.requests).toEqual([]);
    expect(await kodo("vote", "prp_abc12345", "approve", "--as", "alice", "--met", "sec", "--comment", "fine")).toBe(0);
    expect(stub.requests[0]?.headers["x-kodo-actor"]).toBe("alice");
    expect(lastBody()).toEqual({ vote: "approve", conditions: { sec: true }, comment: "fine" });
    expect(io.stdoutText()).toContain("proposal prp_abc12345  active  capability");
    expect(io.stdoutText()).toContain("alice approve (sec met)");
    expect(await kodo("vote", "prp_abc12345", "approve", "--as", "mallory")).toBe(1);
    expect(io.err.at(-1)).toBe("kodo: FORBIDDEN: mallory is not an approver");
  });
});
