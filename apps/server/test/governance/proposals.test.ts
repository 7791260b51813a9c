/**
 * Quorum approvals through the HTTP API, on a real Postgres: proposals become active only with
 * their quorum and every blocking condition met; votes are recorded, checked and final.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActiveGovernance, ApiError, Governance, Proposal } from "@kodo/contracts";
import { activeGovernance } from "../../src/store/governance.js";
import { startHarness, type Harness } from "./harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("governance-proposals");
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** A fresh repository whose proposals need `required` of `approvers`. */
async function governedRepo(approvers: string[], required: number): Promise<string> {
  const repoPath = await h.repo();
  const put = await h.call<Governance>("PUT", "/api/repos/governance", { repoPath, approvers, required }, "admin");
  expect(put.status).toBe(200);
  return repoPath;
}

async function propose(body: Record<string, unknown>, actor = "alice"): Promise<Proposal> {
  const created = await h.call<Proposal>("POST", "/api/proposals", body, actor);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function vote(id: string, approver: string, body: Record<string, unknown>): Promise<{ status: number; body: Proposal & ApiError }> {
  return h.call<Proposal & ApiError>("POST", `/api/proposals/${id}/votes`, body, approver);
}

const FOUR = ["alice", "bob", "carol", "dave"];

describe("governance", () => {
  it("documents its routes in the OpenAPI document", async () => {
    const doc = await h.call<{ paths: Record<string, unknown> }>("GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(["/api/repos/governance", "/api/repos/active", "/api/proposals", "/api/proposals/{id}", "/api/proposals/{id}/votes", "/api/runs/{id}/plan-votes"]),
    );
  });

  it("is set directly once; a later change must be a proposal; the same rules again are a retry", async () => {
    const repoPath = await h.repo();
    const missing = await h.call<ApiError>("GET", `/api/repos/governance?repoPath=${encodeURIComponent(repoPath)}`);
    expect(missing.status).toBe(404);
    const noRules = await h.call<ApiError>("POST", "/api/proposals", { repoPath, kind: "capability", payload: { capabilities: { tests: true } } }, "alice");
    expect(noRules).toMatchObject({ status: 409, body: { error: { code: "GOVERNANCE_NOT_CONFIGURED" } } });

    const first = await h.call<Governance>("PUT", "/api/repos/governance", { repoPath, approvers: ["alice", "bob"], required: 2, planQuorum: { approvers: ["alice", "bob", "carol"], required: 2 } }, "admin");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ approvers: ["alice", "bob"], required: 2, planQuorum: { required: 2 }, version: 1, proposalId: null, updatedBy: "admin" });
    const again = await h.call<Governance>("PUT", "/api/repos/governance", { repoPath, approvers: ["alice", "bob"], required: 2, planQuorum: { approvers: ["alice", "bob", "carol"], required: 2 } });
    expect(again.status).toBe(200);
    const changed = await h.call<ApiError>("PUT", "/api/repos/governance", { repoPath, approvers: ["alice"], required: 1 });
    expect(changed).toMatchObject({ status: 409, body: { error: { code: "GOVERNANCE_EXISTS" } } });

    // The change as a proposal: the rules in force (2 of alice, bob) decide it.
    const proposal = await propose({ repoPath, kind: "governance", payload: { approvers: ["alice", "bob", "carol"], required: 2 } });
    const pendingUnderOldRules = await propose({ repoPath, kind: "capability", payload: { capabilities: { tests: true } } });
    await vote(proposal.id, "alice", { vote: "approve" });
    const activated = await vote(proposal.id, "bob", { vote: "approve" });
    expect(activated.body).toMatchObject({ status: "active", version: 2 });
    const now = await h.call<Governance>("GET", `/api/repos/governance?repoPath=${encodeURIComponent(repoPath)}`);
    expect(now.body).toMatchObject({ approvers: ["alice", "bob", "carol"], required: 2, planQuorum: null, version: 2, proposalId: proposal.id });
    // A proposal keeps the rules it was created under: carol is not one of its approvers.
    expect((await vote(pendingUnderOldRules.id, "carol", { vote: "approve" })).status).toBe(403);
  });
});

describe("proposals", () => {
  it("become active with 3 of 4 approvals, applying the payload; every vote is recorded with who, when and conditions", async () => {
    const repoPath = await governedRepo(FOUR, 3);
    const before = await h.events("proposal.created", "proposal.voted", "proposal.activated");
    const proposal = await propose({ repoPath, kind: "write_allowlist", payload: { paths: ["src", "./test/", "src"] } });
    expect(proposal).toMatchObject({ status: "pending", approvers: FOUR, required: 3, createdBy: "alice", payload: { paths: ["src", "test"] } });
    expect(proposal.id).toMatch(/^prp_/);

    expect((await vote(proposal.id, "alice", { vote: "approve", comment: "small" })).body).toMatchObject({ status: "pending", tally: { code: "AWAITING_VOTES", approvals: 1 } });
    expect((await vote(proposal.id, "bob", { vote: "approve" })).body).toMatchObject({ status: "pending", tally: { approvals: 2, outstanding: ["carol", "dave"] } });
    const third = await vote(proposal.id, "carol", { vote: "approve" });
    expect(third.status).toBe(200);
    expect(third.body).toMatchObject({ status: "active", version: 1, tally: { code: "QUORUM_REACHED", approvals: 3 } });
    expect(third.body.votes.map((entry) => [entry.approver, entry.vote, entry.comment])).toEqual([
      ["alice", "approve", "small"],
      ["bob", "approve", null],
      ["carol", "approve", null],
    ]);
    expect(third.body.votes.every((entry) => !Number.isNaN(Date.parse(entry.votedAt)))).toBe(true);

    const active = await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`);
    expect(active.body).toMatchObject({ writeAllowlist: ["src", "test"], policy: null, capabilities: {}, versions: { writeAllowlist: { version: 1, proposalId: proposal.id } } });
    // The read the workflow uses says the same.
    expect(await activeGovernance(h.db.pool, repoPath)).toEqual(active.body);

    const late = await vote(proposal.id, "dave", { vote: "approve" });
    expect(late).toMatchObject({ status: 409, body: { error: { code: "PROPOSAL_NOT_PENDING" } } });
    expect(await h.events("proposal.created", "proposal.voted", "proposal.activated")).toBe(before + 5);
  });

  it("unanimous: every approver must approve, and one rejection rejects", async () => {
    const repoPath = await governedRepo(["alice", "bob"], 2);
    const proposal = await propose({ repoPath, kind: "capability", payload: { capabilities: { tests: true } } });
    expect((await vote(proposal.id, "alice", { vote: "approve" })).body.status).toBe("pending");
    expect((await vote(proposal.id, "bob", { vote: "approve" })).body).toMatchObject({ status: "active" });
    const active = await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`);
    expect(active.body.capabilities).toEqual({ tests: true });

    const second = await propose({ repoPath, kind: "capability", payload: { capabilities: { tests: true, network: true } } });
    const rejected = await vote(second.id, "bob", { vote: "reject", comment: "no network" });
    expect(rejected.body).toMatchObject({ status: "rejected", tally: { code: "QUORUM_UNREACHABLE" } });
    expect(rejected.body.reason).toContain("2 are required");
    expect((await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`)).body.capabilities).toEqual({ tests: true });
  });

  it("only a listed approver votes (403), with a valid X-Kodo-Actor (400)", async () => {
    const repoPath = await governedRepo(FOUR, 3);
    const proposal = await propose({ repoPath, kind: "capability", payload: { capabilities: { tests: true } } });
    const stranger = await vote(proposal.id, "mallory", { vote: "approve" });
    expect(stranger).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN", details: { approver: "mallory" } } } });
    const anonymous = await h.call<ApiError>("POST", `/api/proposals/${proposal.id}/votes`, { vote: "approve" });
    expect(anonymous).toMatchObject({ status: 403, body: { error: { code: "FORBIDDEN", details: { approver: "api" } } } });
    const badName = await vote(proposal.id, "alice smith", { vote: "approve" });
    expect(badName).toMatchObject({ status: 400, body: { error: { code: "VALIDATION_FAILED" } } });
    expect((await h.call<Proposal>("GET", `/api/proposals/${proposal.id}`)).body.votes).toEqual([]);
  });

  it("the same vote again changes nothing; a changed vote is a 409", async () => {
    const repoPath = await governedRepo(FOUR, 3);
    const proposal = await propose({ repoPath, kind: "capability", payload: { capabilities: { tests: true } } });
    const first = await vote(proposal.id, "alice", { vote: "approve", comment: "ok" });
    const events = await h.events("proposal.voted");
    const again = await vote(proposal.id, "alice", { vote: "approve", comment: "ok" });
    expect(again.status).toBe(200);
    expect(again.body.votes).toEqual(first.body.votes);
    expect(await h.events("proposal.voted")).toBe(events);
    const changed = await vote(proposal.id, "alice", { vote: "reject" });
    expect(changed).toMatchObject({ status: 409, body: { error: { code: "VOTE_CONFLICT", details: { vote: "approve" } } } });
    const rows = await h.db.pool.query(`SELECT approver, vote FROM kodo.proposal_votes WHERE proposal_id = $1`, [proposal.id]);
    expect(rows.rows).toEqual([{ approver: "alice", vote: "approve" }]);
  });

  it("an unmet blocking condition keeps it pending with enough approvals; it activates once met", async () => {
    const repoPath = await governedRepo(["alice", "bob", "carol"], 2);
    const proposal = await propose({
      repoPath,
      kind: "write_allowlist",
      payload: { paths: ["docs"] },
      blockingConditions: [{ id: "sec", description: "security reviewed the paths" }],
    });
    expect((await vote(proposal.id, "alice", { vote: "approve", conditions: { nope: true } })).body).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
    await vote(proposal.id, "alice", { vote: "approve" });
    const enough = await vote(proposal.id, "bob", { vote: "approve", conditions: { sec: false }, comment: "review pending" });
    expect(enough.body).toMatchObject({ status: "pending", tally: { code: "CONDITIONS_UNMET", approvals: 2, unmetConditions: ["sec"] } });
    // Marked met by an approving vote, but still marked unmet by bob: not active.
    const carol = await vote(proposal.id, "carol", { vote: "approve", conditions: { sec: true } });
    expect(carol.body).toMatchObject({ status: "pending", tally: { unmetConditions: ["sec"] } });
    expect((await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`)).body.writeAllowlist).toBeNull();
    // bob's review is done: he marks it met (his vote stays approve).
    const met = await vote(proposal.id, "bob", { vote: "approve", conditions: { sec: true } });
    expect(met.body).toMatchObject({ status: "active", tally: { code: "QUORUM_REACHED", unmetConditions: [] } });
    expect(met.body.votes.find((entry) => entry.approver === "bob")).toMatchObject({ conditions: { sec: true }, comment: "review pending" });
    expect(met.body.votes.find((entry) => entry.approver === "bob")?.amendedAt).not.toBeNull();
    expect((await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`)).body.writeAllowlist).toEqual(["docs"]);
  });

  it("is rejected as soon as the quorum can no longer be reached", async () => {
    const repoPath = await governedRepo(FOUR, 3);
    const proposal = await propose({ repoPath, kind: "capability", payload: { capabilities: { network: true } } });
    expect((await vote(proposal.id, "alice", { vote: "reject" })).body).toMatchObject({ status: "pending", tally: { code: "AWAITING_VOTES" } });
    expect((await vote(proposal.id, "bob", { vote: "approve" })).body.status).toBe("pending");
    const second = await vote(proposal.id, "carol", { vote: "reject", comment: "no" });
    expect(second.body).toMatchObject({ status: "rejected", tally: { code: "QUORUM_UNREACHABLE", approvals: 1, rejections: 2 } });
    expect(second.body.decidedAt).not.toBeNull();
    expect(await h.events("proposal.rejected")).toBeGreaterThanOrEqual(1);
    expect((await vote(proposal.id, "dave", { vote: "approve" })).body).toMatchObject({ error: { code: "PROPOSAL_NOT_PENDING" } });
  });

  it("activation supersedes the previous active version of its kind", async () => {
    const repoPath = await governedRepo(["alice", "bob"], 1);
    const rules = (id: string) => ({ version: 1, rules: [{ id, tool: "bash", action: "run", when: [{ arg: "command", equals: "git status" }], effect: "allow" }] });
    const first = await propose({ repoPath, kind: "policy", payload: { policy: rules("git-status") } });
    await vote(first.id, "alice", { vote: "approve" });
    const yaml = "version: 1\nrules:\n  - id: npm-test\n    tool: bash\n    action: run\n    when:\n      - { arg: command, regex: '^npm test$' }\n    effect: allow\n";
    const second = await propose({ repoPath, kind: "policy", payload: { source: yaml, file: "kodo-policy.yaml" } });
    const activated = await vote(second.id, "bob", { vote: "approve" });
    expect(activated.body).toMatchObject({ status: "active", version: 2 });
    expect((await h.call<Proposal>("GET", `/api/proposals/${first.id}`)).body.status).toBe("superseded");
    const active = await h.call<ActiveGovernance>("GET", `/api/repos/active?repoPath=${encodeURIComponent(repoPath)}`);
    expect(active.body.policy).toMatchObject({ version: 1, rules: [{ id: "npm-test" }] });
    expect(active.body.versions.policy).toMatchObject({ version: 2, proposalId: second.id });
    const listed = await h.call<{ proposals: Proposal[] }>("GET", `/api/proposals?repoPath=${encodeURIComponent(repoPath)}&status=superseded`);
    expect(listed.body.proposals.map((proposal) => proposal.id)).toEqual([first.id]);
  });

  it("refuses invalid payloads with VALIDATION_FAILED and stores nothing", async () => {
    const repoPath = await governedRepo(["alice", "bob"], 1);
    const count = async () => Number((await h.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM kodo.proposals WHERE repo_path = $1`, [repoPath])).rows[0]?.n);
    const events = await h.events("proposal.created");
    const brokenYaml = "version: 1\nrules:\n  - id: x\n    tool: bash\n    action: run\n    effect: maybe\n";
    const invalid = [
      { kind: "policy", payload: { source: brokenYaml, file: "p.yaml" } },
      { kind: "policy", payload: { policy: { version: 2, rules: [] } } },
      { kind: "write_allowlist", payload: { paths: ["src/../../etc"] } },
      { kind: "write_allowlist", payload: { paths: ["/etc"] } },
      { kind: "capability", payload: { capabilities: { root: true } } },
      { kind: "capability", payload: { capabilities: {} } },
      { kind: "governance", payload: { approvers: ["alice"], required: 2 } },
      { kind: "governance", payload: { approvers: ["alice", "alice"], required: 1 } },
    ];
    for (const body of invalid) {
      const answer = await h.call<ApiError>("POST", "/api/proposals", { repoPath, ...body }, "alice");
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe("VALIDATION_FAILED");
    }
    const yamlAnswer = await h.call<ApiError>("POST", "/api/proposals", { repoPath, ...invalid[0] }, "alice");
    expect(yamlAnswer.body.error.message).toContain("p.yaml:6:13: rules[0].effect");
    expect(yamlAnswer.body.error.details).toMatchObject({ problems: [{ line: 6, col: 13, field: "rules[0].effect" }] });
    expect(await count()).toBe(0);
    expect(await h.events("proposal.created")).toBe(events);
  });
});
