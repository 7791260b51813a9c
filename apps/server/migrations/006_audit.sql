-- The worktree audit around every agent step. The snapshot is taken before the step and kept
-- here until the step's audit is done, so a step re-run after a crash audits against the state
-- before its first try (never against the agent's half-done work).
CREATE TABLE kodo.audit_snapshots (
  run_id     text NOT NULL REFERENCES kodo.runs(id),
  step_key   text NOT NULL,
  snapshot   jsonb NOT NULL,
  -- set once the step's audit is done: a re-run of a finished step reuses it
  result     jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (run_id, step_key)
);

-- What each audit found, and whether the content was restored. Evidence of the run.
CREATE TABLE kodo.audit_findings (
  id         bigserial PRIMARY KEY,
  run_id     text NOT NULL REFERENCES kodo.runs(id),
  step_key   text NOT NULL,
  code       text NOT NULL,
  kind       text NOT NULL,
  path       text,
  detail     text NOT NULL,
  -- 'blocking' fails the run; 'warning' is only reported (the policy's audit.warn)
  severity   text NOT NULL CHECK (severity IN ('blocking', 'warning')),
  restored   boolean NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX audit_findings_run_idx ON kodo.audit_findings (run_id, id);
