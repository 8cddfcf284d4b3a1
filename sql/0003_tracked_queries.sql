-- What the scheduler scrapes automatically: each query on the listed sources (all usable ones when null).
CREATE TABLE tracked_queries (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  query      text        NOT NULL,
  sources    text[],
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tracked_queries_query_key UNIQUE (query)
);
