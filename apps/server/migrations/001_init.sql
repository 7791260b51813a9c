-- kodo's own schema. DBOS keeps its system tables in its own schema (dbos), migrated separately.
CREATE SCHEMA IF NOT EXISTS kodo;

CREATE TABLE kodo.tasks (
  id             text PRIMARY KEY,
  title          text NOT NULL,
  prompt         text NOT NULL,
  repo_path      text NOT NULL,
  base_ref       text NOT NULL,
  status         text NOT NULL,
  current_run_id text,
  options        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_status_idx ON kodo.tasks (status);

CREATE TABLE kodo.runs (
  id               text PRIMARY KEY,
  task_id          text NOT NULL REFERENCES kodo.tasks(id),
  workflow_id      text NOT NULL UNIQUE,
  status           text NOT NULL,
  branch           text,
  worktree_path    text,
  base_commit      text,
  head_commit      text,
  session_id       text,
  plan             jsonb,
  plan_approved_at timestamptz,
  review           jsonb,
  error_code       text,
  error_message    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE INDEX runs_task_idx ON kodo.runs (task_id);
-- At most one active run per task: the database, not the API, is the guard.
CREATE UNIQUE INDEX runs_one_active_per_task ON kodo.runs (task_id)
  WHERE status NOT IN ('Done', 'Failed', 'Rejected', 'Cancelled');

-- Every status change, written in the same transaction as its event.
CREATE TABLE kodo.status_history (
  id          bigserial PRIMARY KEY,
  task_id     text NOT NULL REFERENCES kodo.tasks(id),
  run_id      text REFERENCES kodo.runs(id),
  from_status text,
  to_status   text NOT NULL,
  reason      text,
  at          timestamptz NOT NULL
);
CREATE INDEX status_history_run_idx ON kodo.status_history (run_id, id);

-- The event log behind GET /api/events (SSE id = events.id; Last-Event-ID replays from here).
CREATE TABLE kodo.events (
  id         bigserial PRIMARY KEY,
  type       text NOT NULL,
  task_id    text,
  run_id     text,
  session_id text,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_run_idx ON kodo.events (run_id, id);

-- Exactly-once model-call ledger: one row per op_key, written before the call.
CREATE TABLE kodo.model_calls (
  id                 bigserial PRIMARY KEY,
  op_key             text NOT NULL UNIQUE,
  run_id             text NOT NULL,
  task_id            text NOT NULL,
  step_id            text NOT NULL,
  attempt            integer NOT NULL,
  agent              text NOT NULL,
  session_id         text,
  status             text NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'interrupted')),
  request            jsonb NOT NULL,
  response           jsonb,
  error              jsonb,
  model_id           text,
  provider_id        text,
  tokens_input       integer NOT NULL DEFAULT 0,
  tokens_output      integer NOT NULL DEFAULT 0,
  tokens_reasoning   integer NOT NULL DEFAULT 0,
  tokens_cache_read  integer NOT NULL DEFAULT 0,
  tokens_cache_write integer NOT NULL DEFAULT 0,
  cost_usd           numeric(14, 6) NOT NULL DEFAULT 0,
  duration_ms        integer,
  created_at         timestamptz NOT NULL DEFAULT now(),
  completed_at       timestamptz
);
CREATE INDEX model_calls_run_idx ON kodo.model_calls (run_id, id);

CREATE TABLE kodo.plan_approvals (
  run_id     text PRIMARY KEY REFERENCES kodo.runs(id),
  decision   text NOT NULL CHECK (decision IN ('approved', 'rejected')),
  reason     text,
  decided_by text NOT NULL,
  plan_hash  text NOT NULL,
  decided_at timestamptz NOT NULL
);

CREATE TABLE kodo.artifacts (
  id         bigserial PRIMARY KEY,
  run_id     text NOT NULL REFERENCES kodo.runs(id),
  kind       text NOT NULL,
  name       text NOT NULL,
  path       text NOT NULL,
  sha256     text NOT NULL,
  bytes      bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, name)
);

-- What an agent session did, upserted by item id (message id or part id); OpenCode repeats updates.
CREATE TABLE kodo.session_activity (
  seq        bigserial PRIMARY KEY,
  session_id text NOT NULL,
  run_id     text,
  item_id    text NOT NULL,
  message_id text,
  kind       text NOT NULL,
  data       jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (session_id, item_id)
);
