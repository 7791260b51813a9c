-- Indexes for what is read in aggregate. GET /metrics (docs/metrics.md) reads whole-history totals
-- from these with index-only scans instead of reading the tables; `kodo doctor` finds ledger rows
-- left pending without looking at the completed ones.
CREATE INDEX runs_metrics_idx ON kodo.runs (status) INCLUDE (created_at, finished_at);
CREATE INDEX model_calls_metrics_idx ON kodo.model_calls (agent, step_id, status)
  INCLUDE (tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write, cost_usd, duration_ms);
CREATE INDEX model_calls_pending_idx ON kodo.model_calls (created_at) WHERE status = 'pending';
CREATE INDEX test_runs_metrics_idx ON kodo.test_runs (class) INCLUDE (duration_ms);
