-- Alert rules, the events they fired, and what the scheduled check has judged. Destinations (with their secrets)
-- are part of the rule: they are only ever set and replaced together with it, by an admin.
CREATE TABLE alert_rules (
  id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name               text        NOT NULL,
  -- The tracked query the rule watches (null: every query) and its sources (null: every source).
  query              text,
  sources            text[],
  kind               text        NOT NULL CHECK (kind IN ('new_post', 'volume_spike', 'negative_share_spike')),
  -- The kind's parameters with their defaults filled in (lib/api/alert-params.ts), so a rule reads the same later.
  params             jsonb       NOT NULL,
  cool_down_minutes  integer     NOT NULL CHECK (cool_down_minutes >= 0),
  -- [{ id, type: webhook | slack, url, secret? }]
  destinations       jsonb       NOT NULL,
  enabled            boolean     NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  -- Written by the one statement that records an event (lib/db/alerts.ts), so two workers cannot both fire.
  last_event_at      timestamptz,
  -- The last window the scheduled check judged complete (spike rules).
  checked_window     timestamptz
);

-- rule_id is kept null once its rule is deleted: the history of what was sent outlives the rule.
CREATE TABLE alert_events (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule_id      bigint      REFERENCES alert_rules (id) ON DELETE SET NULL,
  rule_name    text        NOT NULL,
  kind         text        NOT NULL,
  fired_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  window_start timestamptz,
  evidence     jsonb       NOT NULL,
  post_ids     bigint[]    NOT NULL DEFAULT '{}',
  -- A sample sent by POST /alerts/{id}/test: no cool-down, not counted in /metrics.
  test         boolean     NOT NULL DEFAULT false,
  -- When its delivery jobs were enqueued; null while they are not (the enqueue failed, or its worker died between
  -- recording the event and enqueueing), so the scheduled check enqueues them then.
  deliveries_queued_at timestamptz
);
CREATE INDEX alert_events_undelivered_idx ON alert_events (fired_at) WHERE deliveries_queued_at IS NULL;
CREATE INDEX alert_events_fired_at_id_idx ON alert_events (fired_at DESC, id DESC);
CREATE INDEX alert_events_rule_id_idx ON alert_events (rule_id);
