-- Agent sessions per run (one per phase: plan, build), so activity can be traced to its run.
CREATE TABLE kodo.sessions (
  session_id text PRIMARY KEY,
  run_id     text NOT NULL REFERENCES kodo.runs(id),
  agent      text NOT NULL,
  directory  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sessions_run_agent ON kodo.sessions (run_id, agent);

-- The worktree's content fingerprint taken when it was created: proof that nothing changed before approval.
ALTER TABLE kodo.runs ADD COLUMN prepared_fingerprint text;
