-- Incremental scraping: the newest post each (source, query) has stored, so the next run stops there.
CREATE TABLE source_marks (
  source              text        NOT NULL,
  query               text        NOT NULL,
  newest_published_at timestamptz NOT NULL,
  newest_external_id  text        NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, query)
);

-- What GET /sources reports: each source's last success and last failure.
CREATE TABLE source_runs (
  source          text PRIMARY KEY,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  last_error      jsonb
);
