-- Posts: what people wrote, one row per (source, external id) so re-scraping never duplicates.
CREATE TABLE posts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source        text        NOT NULL,
  external_id   text        NOT NULL,
  query         text        NOT NULL,
  url           text        NOT NULL,
  author        text,
  title         text,
  body          text        NOT NULL,
  rating        real,
  language      text,
  published_at  timestamptz NOT NULL,
  reply_body    text,
  reply_published_at timestamptz,
  extra         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  -- 'simple' keeps every language searchable; a per-language stemmer would need the language at query time.
  search        tsvector GENERATED ALWAYS AS (
                  to_tsvector('simple', coalesce(title, '') || ' ' || body || ' ' || coalesce(author, ''))
                ) STORED,
  CONSTRAINT posts_source_external_id_key UNIQUE (source, external_id)
);

-- Keyset pagination: newest first, id breaks ties between posts published in the same instant.
CREATE INDEX posts_published_at_id_idx ON posts (published_at DESC, id DESC);
CREATE INDEX posts_source_published_at_id_idx ON posts (source, published_at DESC, id DESC);
CREATE INDEX posts_search_idx ON posts USING gin (search);

-- Durable history of every finished job, written from Redis' history outbox; survives a Redis flush.
CREATE TABLE jobs (
  id           uuid        PRIMARY KEY,
  kind         text        NOT NULL,
  source       text,
  query        text,
  params       jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status       text        NOT NULL CHECK (status IN ('completed', 'failed', 'cancelled')),
  priority     smallint    NOT NULL,
  attempts     integer     NOT NULL,
  result       jsonb,
  error        jsonb,
  created_at   timestamptz NOT NULL,
  started_at   timestamptz,
  finished_at  timestamptz NOT NULL
);

CREATE INDEX jobs_finished_at_idx ON jobs (finished_at DESC);
CREATE INDEX jobs_source_query_idx ON jobs (source, query, finished_at DESC);
