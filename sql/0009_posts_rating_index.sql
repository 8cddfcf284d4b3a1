-- The rating filter (GET /posts?rating=, the dashboard's feed) reads the newest posts of a rounded rating from an
-- index instead of walking every post newest first: a rating nobody gave took over a second at a million posts.
-- Partial, as most sources have no rating; the filter says `rating IS NOT NULL` so the planner may use it. The
-- statistics tell the planner how common each rounded rating is, which it cannot learn from a partial index.
CREATE INDEX posts_rating_published_at_id_idx ON posts ((round(rating)::int), published_at DESC, id DESC) WHERE rating IS NOT NULL;
CREATE STATISTICS posts_rating_rounded_stats ON (round(rating)::int) FROM posts;
