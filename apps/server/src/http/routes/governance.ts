/**
 * Governance routes: a repository's quorum rules, what is in force, proposals and votes, and the
 * votes on a run's plan under a plan quorum. Votes name their approver with `X-Kodo-Actor`.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import {
  ActiveGovernance,
  ActorName,
  ApiError,
  CreateProposalRequest,
  Governance,
  PlanQuorumStatus,
  Proposal,
  ProposalList,
  ProposalStatus,
  PutGovernanceRequest,
  VoteRequest,
} from "@kodo/contracts";
import type { GovernanceService } from "../../service/governance-service.js";
import { actorOf } from "../actor.js";
import { body, errors, json } from "../openapi-helpers.js";

const withForbidden = { ...errors, 403: { description: "the actor is not an approver", content: { "application/json": { schema: ApiError } } } } as const;
/** `X-Kodo-Actor`: the approver's name (declared, not authenticated, with a shared token) */
const ActorHeaders = z.object({ "x-kodo-actor": ActorName.optional() });
const RepoQuery = z.object({ repoPath: z.string().min(1) });
const IdParam = z.object({ id: z.string().min(1).max(100) });

const routes = {
  getGovernance: createRoute({
    method: "get",
    path: "/api/repos/governance",
    request: { query: RepoQuery },
    responses: { 200: json(Governance, "the repository's quorum rules"), ...errors },
  }),
  putGovernance: createRoute({
    method: "put",
    path: "/api/repos/governance",
    request: { headers: ActorHeaders, body: body(PutGovernanceRequest) },
    responses: { 200: json(Governance, "the rules (only the first governance is set directly; later changes are proposals)"), ...errors },
  }),
  getActive: createRoute({
    method: "get",
    path: "/api/repos/active",
    request: { query: RepoQuery },
    responses: { 200: json(ActiveGovernance, "what is in force, with the proposal and version of each part"), ...errors },
  }),
  createProposal: createRoute({
    method: "post",
    path: "/api/proposals",
    request: { headers: ActorHeaders, body: body(CreateProposalRequest) },
    responses: { 201: json(Proposal, "the proposal, pending its quorum"), ...errors },
  }),
  listProposals: createRoute({
    method: "get",
    path: "/api/proposals",
    request: { query: z.object({ repoPath: z.string().min(1).optional(), status: ProposalStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }) },
    responses: { 200: json(ProposalList, "proposals, newest first"), ...errors },
  }),
  getProposal: createRoute({
    method: "get",
    path: "/api/proposals/{id}",
    request: { params: IdParam },
    responses: { 200: json(Proposal, "the proposal with its votes and tally"), ...errors },
  }),
  vote: createRoute({
    method: "post",
    path: "/api/proposals/{id}/votes",
    request: { params: IdParam, headers: ActorHeaders, body: body(VoteRequest) },
    responses: { 200: json(Proposal, "the proposal after the vote (active or rejected when it decided)"), ...withForbidden },
  }),
  planVotes: createRoute({
    method: "get",
    path: "/api/runs/{id}/plan-votes",
    request: { params: IdParam },
    responses: { 200: json(PlanQuorumStatus, "the plan quorum of the run: rules, votes, tally"), ...errors },
  }),
};

export function registerGovernanceRoutes(app: OpenAPIHono, governance: GovernanceService, fallbackActor: string): void {
  app.openapi(routes.getGovernance, async (c) => c.json(await governance.governance(c.req.valid("query").repoPath), 200));
  app.openapi(routes.putGovernance, async (c) => c.json(await governance.putGovernance(c.req.valid("json"), actorOf(c, fallbackActor)), 200));
  app.openapi(routes.getActive, async (c) => c.json(await governance.active(c.req.valid("query").repoPath), 200));
  app.openapi(routes.createProposal, async (c) => c.json(await governance.createProposal(c.req.valid("json"), actorOf(c, fallbackActor)), 201));
  app.openapi(routes.listProposals, async (c) => {
    const query = c.req.valid("query");
    const proposals = await governance.listProposals({
      ...(query.repoPath === undefined ? {} : { repoPath: query.repoPath }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    });
    return c.json({ proposals }, 200);
  });
  app.openapi(routes.getProposal, async (c) => c.json(await governance.getProposal(c.req.valid("param").id), 200));
  app.openapi(routes.vote, async (c) => c.json(await governance.vote(c.req.valid("param").id, c.req.valid("json"), actorOf(c, fallbackActor)), 200));
  app.openapi(routes.planVotes, async (c) => c.json(await governance.planVotes(c.req.valid("param").id), 200));
}
