-- Repository-level settings (e.g. where tests may be run from), keyed by the repository's root.
CREATE TABLE kodo.repo_settings (
  repo_path  text PRIMARY KEY,
  settings   jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per verification attempt of a run: the test result that decided what happened next.
CREATE TABLE kodo.test_runs (
  id            bigserial PRIMARY KEY,
  run_id        text NOT NULL REFERENCES kodo.runs(id),
  attempt       integer NOT NULL,
  class         text NOT NULL,
  reason        text NOT NULL,
  duration_ms   integer NOT NULL,
  result        jsonb NOT NULL,
  -- ids of the tests that passed: evidence that a later failure of the same test is a flake
  passed_ids    jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (run_id, attempt)
);

-- The build attempts of a run and what each one was told.
CREATE TABLE kodo.build_attempts (
  run_id        text NOT NULL REFERENCES kodo.runs(id),
  attempt       integer NOT NULL,
  summary       text NOT NULL,
  retry_context jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, attempt)
);
