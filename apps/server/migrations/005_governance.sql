-- Governance: changes that widen what agents may do are proposals, active only once a quorum of a
-- repository's approvers approved them. See docs/governance.md.

-- The quorum configuration of a repository (keyed by its root, like repo_settings). The first one
-- is set directly; every later change is a `governance` proposal.
CREATE TABLE kodo.repo_governance (
  repo_path   text PRIMARY KEY,
  approvers   text[] NOT NULL CHECK (cardinality(approvers) >= 1),
  required    integer NOT NULL CHECK (required >= 1 AND required <= cardinality(approvers)),
  -- {approvers, required}: plan approvals of this repository's runs need this quorum; null = one approver
  plan_quorum jsonb,
  version     integer NOT NULL DEFAULT 1,
  -- the governance proposal that set this version; null when it was set directly
  proposal_id text,
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kodo.proposals (
  id                  text PRIMARY KEY,
  repo_path           text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('policy', 'capability', 'write_allowlist', 'governance')),
  payload             jsonb NOT NULL,
  -- copied from the repository's governance at creation: the rules cannot change under a proposal
  approvers           text[] NOT NULL CHECK (cardinality(approvers) >= 1),
  required            integer NOT NULL CHECK (required >= 1 AND required <= cardinality(approvers)),
  -- [{id, description}]: each must be marked met by an approving vote, and by no vote marked unmet
  blocking_conditions jsonb NOT NULL DEFAULT '[]'::jsonb,
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'rejected', 'superseded')),
  -- the version of its kind this proposal became when it was activated
  version             integer,
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL,
  decided_at          timestamptz,
  reason              text
);
CREATE INDEX proposals_repo_idx ON kodo.proposals (repo_path, created_at);
CREATE INDEX proposals_status_idx ON kodo.proposals (status, created_at);
-- At most one active proposal per repository and kind: activation supersedes the previous one.
CREATE UNIQUE INDEX proposals_one_active ON kodo.proposals (repo_path, kind) WHERE status = 'active';

CREATE TABLE kodo.proposal_votes (
  proposal_id text NOT NULL REFERENCES kodo.proposals(id),
  approver    text NOT NULL,
  vote        text NOT NULL CHECK (vote IN ('approve', 'reject')),
  -- {conditionId: true|false}: which blocking conditions this approver marked met or unmet
  conditions  jsonb NOT NULL DEFAULT '{}'::jsonb,
  comment     text,
  voted_at    timestamptz NOT NULL,
  -- when the approver last changed their condition marks (the vote itself never changes)
  amended_at  timestamptz,
  UNIQUE (proposal_id, approver)
);

-- What is in force per repository and kind (policy, write_allowlist, capability), and which
-- proposal put it there. The governance kind lives in repo_governance.
CREATE TABLE kodo.repo_active_governance (
  repo_path    text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('policy', 'capability', 'write_allowlist')),
  value        jsonb NOT NULL,
  proposal_id  text NOT NULL REFERENCES kodo.proposals(id),
  version      integer NOT NULL,
  activated_at timestamptz NOT NULL,
  PRIMARY KEY (repo_path, kind)
);

-- A plan quorum as it applied to one run: copied from the governance at the first vote.
CREATE TABLE kodo.plan_quorum_reviews (
  run_id     text PRIMARY KEY REFERENCES kodo.runs(id),
  approvers  text[] NOT NULL,
  required   integer NOT NULL CHECK (required >= 1 AND required <= cardinality(approvers)),
  created_at timestamptz NOT NULL
);

CREATE TABLE kodo.plan_quorum_votes (
  run_id   text NOT NULL REFERENCES kodo.plan_quorum_reviews(run_id),
  approver text NOT NULL,
  vote     text NOT NULL CHECK (vote IN ('approve', 'reject')),
  comment  text,
  voted_at timestamptz NOT NULL,
  UNIQUE (run_id, approver)
);
