// Decides when a rule fires and records the event, then enqueues one delivery job per destination:
//   - right after an ingest, with the ids of the posts the scrape just inserted: new_post rules match those posts,
//     spike rules judge the open window from the hourly rollup;
//   - on a schedule (the alert-check job), every spike rule judges the window that just ended, so a quiet source
//     still ends a window, and the open one (posts a failed after-ingest evaluation missed).
// A window's baseline is the same all the window long (lib/alerts/spike.ts), so it is read from the rollup once per
// rule and window and kept; after that an evaluation reads only the open window's counts.
import {
  type AlertScope,
  alertPosts,
  eventsAwaitingDelivery,
  markDeliveriesQueued,
  markWindowChecked,
  recordEvent,
  rulesInScope,
  scopeFirstHour,
  windowCounts,
  windowPostIds,
} from '../db/alerts.ts';
import type { Sql } from '../db/client.ts';
import type { Logger } from '../log.ts';
import type { AlertEvent, AlertRule, NewPostParams, SpikeRuleParams } from '../model/alert.ts';
import type { JobQueue } from '../queue/queue.ts';
import { enqueueDeliveries } from './deliveries.ts';

// An event younger than this may still be having its deliveries enqueued by the run that fired it.
const REDELIVERY_GRACE_MS = 60_000;
const REDELIVERY_BATCH = 100;
import { matchesNewPost } from './match.ts';
import { judgeShare, shareBaseline, type ShareBaseline } from './share.ts';
import { judgeVolume, volumeBaseline, type VolumeBaseline } from './spike.ts';
import type { WindowCount, ShareWindowCount } from './types.ts';
import { DAY_MS, MINUTE_MS } from './windows.ts';

/** Posts an event names at most (the newest); its evidence still counts them all. */
const EVENT_POSTS = 100;
const BASELINES_KEPT = 1_000;

export interface EvaluatorDeps {
  sql: Sql;
  queue: JobQueue;
  log: Logger;
  /** Attempts of each delivery job (ALERT_DELIVERY_MAX_ATTEMPTS). */
  deliveryAttempts: number;
  now?: () => number;
}

type Baseline = { kind: 'volume'; baseline: VolumeBaseline } | { kind: 'share'; baseline: ShareBaseline };

export class AlertEvaluator {
  private readonly baselines = new Map<string, Baseline>();

  constructor(private readonly deps: EvaluatorDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /**
   * Every rule whose scope holds (source, query), judged on the posts just inserted; returns the events fired. The
   * posts of a backfill (a first run, a full re-scan) are the past: new_post rules do not tell of them, while spike
   * rules still judge the open window.
   */
  async afterIngest(ingest: { source: string; query: string; postIds: string[]; backfill?: boolean }): Promise<AlertEvent[]> {
    if (ingest.postIds.length === 0) return [];
    const rules = await rulesInScope(this.deps.sql, ['new_post', 'volume_spike', 'negative_share_spike'], ingest);
    if (rules.length === 0) return [];
    const events: AlertEvent[] = [];
    const newPostRules = ingest.backfill ? [] : rules.filter((rule) => rule.kind === 'new_post');
    if (newPostRules.length > 0) {
      const posts = await alertPosts(this.deps.sql, ingest.postIds);
      for (const rule of newPostRules) {
        const matched = posts.filter((post) => matchesNewPost(rule.params as NewPostParams, post));
        if (matched.length === 0) continue;
        const evidence = { matched: matched.length, source: ingest.source, query: ingest.query, ...(rule.params as NewPostParams) };
        await this.fire(rule, { windowStart: null, evidence, postIds: matched.slice(0, EVENT_POSTS).map((post) => post.id) }, events);
      }
    }
    const now = this.now();
    for (const rule of rules.filter((r) => r.kind !== 'new_post')) {
      await this.judgeWindow(rule, windowStartOf(rule, now), now, false, events);
    }
    return events;
  }

  /** The scheduled check: each enabled spike rule judges the window that just ended (once), then the open one. */
  async scheduled(): Promise<{ rules: number; events: AlertEvent[]; redelivered: AlertEvent[] }> {
    const redelivered = await this.redeliver();
    const rules = await rulesInScope(this.deps.sql, ['volume_spike', 'negative_share_spike']);
    const events: AlertEvent[] = [];
    const now = this.now();
    for (const rule of rules) {
      const open = windowStartOf(rule, now);
      const ended = open - (rule.params as SpikeRuleParams).windowMinutes * MINUTE_MS;
      if (rule.checkedWindow === null || rule.checkedWindow.getTime() < ended) {
        await this.judgeWindow(rule, ended, now, true, events);
        await markWindowChecked(this.deps.sql, rule.id, new Date(ended));
      }
      await this.judgeWindow(rule, open, now, false, events);
    }
    this.forgetOldBaselines(now);
    return { rules: rules.length, events, redelivered };
  }

  private async judgeWindow(rule: AlertRule, windowStart: number, now: number, complete: boolean, events: AlertEvent[]): Promise<void> {
    const params = rule.params as SpikeRuleParams;
    const scope: AlertScope = { query: rule.query, sources: rule.sources };
    const windowMs = params.windowMinutes * MINUTE_MS;
    const baseline = await this.baselineOf(rule, scope, windowStart);
    const [row] = (await windowCounts(this.deps.sql, scope, params.windowMinutes, new Date(windowStart), new Date(windowStart + windowMs)))
      .filter((r) => r.start.getTime() === windowStart);
    const count = row?.count ?? 0;
    const negative = row?.negative ?? 0;
    const verdict = baseline.kind === 'volume'
      ? judgeVolume(baseline.baseline, { start: windowStart, count, complete })
      : judgeShare(baseline.baseline, { start: windowStart, count, negative, complete });
    if (!verdict.spike) return;
    const until = new Date(Math.min(now, windowStart + windowMs) + 1);
    const postIds = await windowPostIds(this.deps.sql, scope, new Date(windowStart), until, EVENT_POSTS, baseline.kind === 'share');
    await this.fire(rule, { windowStart: new Date(windowStart), evidence: verdict.evidence as unknown as Record<string, unknown>, postIds }, events);
  }

  private async baselineOf(rule: AlertRule, scope: AlertScope, windowStart: number): Promise<Baseline> {
    const key = `${rule.id}:${rule.updatedAt.getTime()}:${windowStart}`;
    const kept = this.baselines.get(key);
    if (kept) return kept;
    const params = rule.params as SpikeRuleParams;
    const from = windowStart - params.baselineDays * DAY_MS;
    const [rows, firstHour] = await Promise.all([
      windowCounts(this.deps.sql, scope, params.windowMinutes, new Date(from), new Date(windowStart)),
      scopeFirstHour(this.deps.sql, scope),
    ]);
    // Counts are complete from the scope's oldest stored post: before it, windows are unknown, not empty.
    const historyStart = firstHour?.getTime() ?? windowStart;
    const common = { windowMinutes: params.windowMinutes, baselineDays: params.baselineDays, k: params.k, minBaselineDays: params.minBaselineDays };
    const baseline: Baseline = rule.kind === 'volume_spike'
      ? {
          kind: 'volume',
          baseline: volumeBaseline({ windowStart, history: rows.map((r): WindowCount => ({ start: r.start.getTime(), count: r.count })), historyStart }, { ...common, minCount: params.minCount }),
        }
      : {
          kind: 'share',
          baseline: shareBaseline(
            { windowStart, history: rows.map((r): ShareWindowCount => ({ start: r.start.getTime(), count: r.count, negative: r.negative })), historyStart },
            { ...common, minVolume: params.minVolume },
          ),
        };
    if (this.baselines.size >= BASELINES_KEPT) this.baselines.clear();
    this.baselines.set(key, baseline);
    return baseline;
  }

  private forgetOldBaselines(now: number): void {
    for (const key of this.baselines.keys()) {
      const windowStart = Number(key.split(':')[2]);
      if (windowStart < now - DAY_MS) this.baselines.delete(key);
    }
  }

  private async fire(rule: AlertRule, event: { windowStart: Date | null; evidence: Record<string, unknown>; postIds: string[] }, events: AlertEvent[]): Promise<void> {
    const recorded = await recordEvent(this.deps.sql, { ruleId: rule.id, ...event });
    if (!recorded) return;
    events.push(recorded);
    const deliveries = await this.deliver(rule, recorded);
    this.deps.log.info('alert_fired', { rule_id: rule.id, rule: rule.name, kind: rule.kind, event_id: recorded.id, posts: recorded.postIds.length, deliveries });
  }

  /**
   * Enqueues an event's deliveries and notes that they are queued. An event whose enqueue failed (Redis full or
   * away) stays noted as undelivered, and the scheduled check enqueues it later: an event is never told to no one.
   */
  private async deliver(rule: AlertRule, event: AlertEvent): Promise<number | null> {
    try {
      const jobs = await enqueueDeliveries(this.deps.queue, rule, event, this.deps.deliveryAttempts);
      await markDeliveriesQueued(this.deps.sql, event.id);
      return jobs.length;
    } catch (error) {
      this.deps.log.error('alert_delivery_enqueue_failed', { rule_id: rule.id, event_id: event.id, error: (error as Error).message });
      return null;
    }
  }

  /** Events recorded a while ago whose deliveries never reached the queue, enqueued now. */
  async redeliver(): Promise<AlertEvent[]> {
    const pending = await eventsAwaitingDelivery(this.deps.sql, REDELIVERY_GRACE_MS, REDELIVERY_BATCH);
    const sent: AlertEvent[] = [];
    for (const { event, rule } of pending) {
      if ((await this.deliver(rule, event)) !== null) sent.push(event);
    }
    return sent;
  }
}

function windowStartOf(rule: AlertRule, now: number): number {
  const windowMs = (rule.params as SpikeRuleParams).windowMinutes * MINUTE_MS;
  return Math.floor(now / windowMs) * windowMs;
}
