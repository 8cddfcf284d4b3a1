-- Every post's sentiment, as lib/sentiment decided it at ingest (or a backfill since): a score from -1 to 1 (null
-- when the text could not be judged), a label (null: not judged, e.g. a language we do not score), how it was
-- decided (its method carries the scorer's version, so a backfill finds what an older one scored) and the language
-- it was judged in.
ALTER TABLE posts
  ADD COLUMN sentiment_score    real,
  ADD COLUMN sentiment_label    text CHECK (sentiment_label IN ('negative', 'neutral', 'positive')),
  ADD COLUMN sentiment_method   text,
  ADD COLUMN sentiment_language text;

CREATE INDEX posts_sentiment_published_at_id_idx ON posts (sentiment_label, published_at DESC, id DESC);
CREATE INDEX posts_query_published_at_id_idx ON posts (query, published_at DESC, id DESC);
-- The backfill walks what an older scorer (or none) judged, by id.
CREATE INDEX posts_sentiment_method_id_idx ON posts (sentiment_method, id);

-- Counts per UTC hour, source, query and label, kept by the triggers below in the same statement that writes the
-- posts: GET /posts/stats reads days and weeks from here without scanning the posts themselves. '' is "no label".
CREATE TABLE post_stats_hourly (
  hour        timestamptz NOT NULL,
  source      text        NOT NULL,
  query       text        NOT NULL,
  label       text        NOT NULL,
  posts       integer     NOT NULL,
  rated       integer     NOT NULL,
  rating_sum  double precision NOT NULL,
  PRIMARY KEY (hour, source, query, label)
);
CREATE INDEX post_stats_hourly_source_hour_idx ON post_stats_hourly (source, hour);

-- The same per UTC day: a chart of months or years in UTC (the default) reads a day's row where it would read 24.
CREATE TABLE post_stats_daily (
  day         timestamptz NOT NULL,
  source      text        NOT NULL,
  query       text        NOT NULL,
  label       text        NOT NULL,
  posts       integer     NOT NULL,
  rated       integer     NOT NULL,
  rating_sum  double precision NOT NULL,
  PRIMARY KEY (day, source, query, label)
);
CREATE INDEX post_stats_daily_source_day_idx ON post_stats_daily (source, day);

-- Each trigger adds the statement's new rows (and takes away its old ones) aggregated per group: one upsert per
-- statement, not per row, so a page of posts costs a handful of rows here. Groups are written in key order, so two
-- workers storing pages of the same hours at once wait for each other instead of deadlocking.
CREATE FUNCTION post_stats_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO post_stats_hourly AS s (hour, source, query, label, posts, rated, rating_sum)
  SELECT date_trunc('hour', published_at), source, query, coalesce(sentiment_label, ''), count(*), count(rating), coalesce(sum(rating), 0)
  FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (hour, source, query, label) DO UPDATE SET
    posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum;
  INSERT INTO post_stats_daily AS s (day, source, query, label, posts, rated, rating_sum)
  SELECT date_trunc('day', published_at, 'UTC'), source, query, coalesce(sentiment_label, ''), count(*), count(rating), coalesce(sum(rating), 0)
  FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (day, source, query, label) DO UPDATE SET
    posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum;
  RETURN NULL;
END $$;

CREATE FUNCTION post_stats_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO post_stats_hourly AS s (hour, source, query, label, posts, rated, rating_sum)
  SELECT date_trunc('hour', published_at), source, query, coalesce(sentiment_label, ''), -count(*), -count(rating), -coalesce(sum(rating), 0)
  FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (hour, source, query, label) DO UPDATE SET
    posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum;
  INSERT INTO post_stats_daily AS s (day, source, query, label, posts, rated, rating_sum)
  SELECT date_trunc('day', published_at, 'UTC'), source, query, coalesce(sentiment_label, ''), -count(*), -count(rating), -coalesce(sum(rating), 0)
  FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (day, source, query, label) DO UPDATE SET
    posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum;
  RETURN NULL;
END $$;

-- An update moves a post out of its old group and into its new one, in one statement; rows whose counted fields
-- did not change are left out, so a re-scrape that changes nothing counted writes nothing here.
CREATE FUNCTION post_stats_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH moved AS (
    SELECT o.published_at, o.source, o.query, coalesce(o.sentiment_label, '') AS label,
           -1 AS posts, -(o.rating IS NOT NULL)::int AS rated, -coalesce(o.rating, 0)::double precision AS rating_sum
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.published_at, o.source, o.query, o.sentiment_label, o.rating) IS DISTINCT FROM (n.published_at, n.source, n.query, n.sentiment_label, n.rating)
    UNION ALL
    SELECT n.published_at, n.source, n.query, coalesce(n.sentiment_label, ''),
           1, (n.rating IS NOT NULL)::int, coalesce(n.rating, 0)::double precision
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.published_at, o.source, o.query, o.sentiment_label, o.rating) IS DISTINCT FROM (n.published_at, n.source, n.query, n.sentiment_label, n.rating)
  ), hourly AS (
    INSERT INTO post_stats_hourly AS s (hour, source, query, label, posts, rated, rating_sum)
    SELECT date_trunc('hour', published_at), source, query, label, sum(posts), sum(rated), sum(rating_sum)
    FROM moved GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour, source, query, label) DO UPDATE SET
      posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum
  )
  INSERT INTO post_stats_daily AS s (day, source, query, label, posts, rated, rating_sum)
  SELECT date_trunc('day', published_at, 'UTC'), source, query, label, sum(posts), sum(rated), sum(rating_sum)
  FROM moved GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (day, source, query, label) DO UPDATE SET
    posts = s.posts + excluded.posts, rated = s.rated + excluded.rated, rating_sum = s.rating_sum + excluded.rating_sum;
  RETURN NULL;
END $$;

-- A TRUNCATE fires no row or DELETE trigger; it empties the counts with the posts.
CREATE FUNCTION post_stats_on_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE post_stats_hourly, post_stats_daily;
  RETURN NULL;
END $$;

CREATE TRIGGER post_stats_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION post_stats_on_insert();
CREATE TRIGGER post_stats_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION post_stats_on_update();
CREATE TRIGGER post_stats_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION post_stats_on_delete();
CREATE TRIGGER post_stats_truncate AFTER TRUNCATE ON posts FOR EACH STATEMENT EXECUTE FUNCTION post_stats_on_truncate();

-- The posts already stored.
INSERT INTO post_stats_hourly (hour, source, query, label, posts, rated, rating_sum)
SELECT date_trunc('hour', published_at), source, query, coalesce(sentiment_label, ''), count(*), count(rating), coalesce(sum(rating), 0)
FROM posts GROUP BY 1, 2, 3, 4;
INSERT INTO post_stats_daily (day, source, query, label, posts, rated, rating_sum)
SELECT date_trunc('day', published_at, 'UTC'), source, query, coalesce(sentiment_label, ''), count(*), count(rating), coalesce(sum(rating), 0)
FROM posts GROUP BY 1, 2, 3, 4;
