-- A run that stopped before reaching the mark (its budget ran out) leaves a gap: posts up to gap_top are stored,
-- some between the mark and them may not be. The mark stays where it was until a run reads down to it; the next
-- run reads from the newest post to gap_top, then from gap_resume (a position the source gave, such as a page
-- number or a time bound; null when it has none) down to the mark (lib/scrape/incremental.ts).
ALTER TABLE source_marks
  ADD COLUMN gap_top_published_at timestamptz,
  ADD COLUMN gap_top_external_id  text,
  ADD COLUMN gap_resume           jsonb,
  ADD COLUMN gap_opened_at        timestamptz;
