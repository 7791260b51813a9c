-- The permission bridge: every ask of an agent (OpenCode `permission.asked` / `question.asked`) that
-- kodo answered, and how. Rows are the truth: an answer given through any API process is delivered
-- from here by the worker whose OpenCode server asked, and deadlines are enforced from here.
CREATE TABLE kodo.approvals (
  id                  text PRIMARY KEY,
  run_id              text NOT NULL REFERENCES kodo.runs(id),
  task_id             text NOT NULL REFERENCES kodo.tasks(id),
  session_id          text NOT NULL,
  kind                text NOT NULL CHECK (kind IN ('permission', 'question')),
  opencode_request_id text NOT NULL,
  -- the directory OpenCode reported the ask for (a reply must name it)
  directory           text,
  permission          text,
  patterns            jsonb NOT NULL DEFAULT '[]'::jsonb,
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
  questions           jsonb,
  -- the policy decision that led here (null for questions, which always go to a person)
  decided_by_policy   jsonb,
  status              text NOT NULL CHECK (status IN ('pending', 'answered', 'expired')),
  decision            text CHECK (decision IN ('once', 'always', 'reject')),
  message             text,
  answered_by         text,
  -- the OpenCode server process the ask belongs to: only it can receive the answer
  server_instance     text NOT NULL,
  created_at          timestamptz NOT NULL,
  deadline_at         timestamptz NOT NULL,
  answered_at         timestamptz,
  delivered_at        timestamptz,
  delivery_error      text,
  CHECK ((status = 'pending') = (decision IS NULL)),
  UNIQUE (server_instance, opencode_request_id)
);
-- What waits for a person (the API's default list, the bridge's deadline sweep).
CREATE INDEX approvals_pending_idx ON kodo.approvals (deadline_at) WHERE status = 'pending';
-- Answers the bridge still has to hand to OpenCode.
CREATE INDEX approvals_undelivered_idx ON kodo.approvals (server_instance, answered_at)
  WHERE status = 'answered' AND delivered_at IS NULL AND delivery_error IS NULL;
CREATE INDEX approvals_run_idx ON kodo.approvals (run_id, created_at);
