// Replays a synthetic year (spike-data.ts) through a detector as an evaluator would run it: after each quarter hour
// of posts (an ingest) the open window is judged on its count so far, and the last quarter's check is the complete
// window (the scheduled check that ends a window even when a source is quiet). A rule fires at most once per
// cool-down. Then each injected incident is matched with the events inside it; any other event is a false alert.
import { mayFireAgain } from '../../lib/alerts/cool-down.ts';
import { judgeShare, plainShareBaseline, shareBaseline } from '../../lib/alerts/share.ts';
import { type VolumeSpikeParams, judgeVolume, plainBaseline, volumeBaseline } from '../../lib/alerts/spike.ts';
import { countUpperQuantile, normalUpperTail } from '../../lib/alerts/tails.ts';
import type { ShareWindowCount, WindowCount } from '../../lib/alerts/types.ts';
import { HOUR_MS, type Incident, type SyntheticYear } from './spike-data.ts';

/** Judges the posts so far of one window. */
export type Judge = (count: number, negative: number, complete: boolean) => boolean;

export interface ReplayDetector {
  name: string;
  kind: 'volume' | 'share';
  /** The judge of hour h, built once per window as an evaluator may keep a window's baseline while it is open. */
  judgeFor(h: number): Judge;
}

export interface AlertEvent {
  hour: number;
  /** 0-3: the quarter hour after which it fired; 3 is the complete window. */
  quarter: number;
}

const QUARTER_MS = HOUR_MS / 4;
const PLAIN_BASELINE_HOURS = 14 * 24;

export function replay(year: SyntheticYear, detector: ReplayDetector, coolDownMinutes: number): AlertEvent[] {
  const events: AlertEvent[] = [];
  let last: number | null = null;
  for (let h = year.firstScoredHour; h < year.hours; h++) {
    const judge = detector.judgeFor(h);
    let count = 0;
    let negative = 0;
    for (let q = 0; q < 4; q++) {
      count += year.quarterCounts[4 * h + q]!;
      negative += year.quarterNegatives[4 * h + q]!;
      const at = year.start + h * HOUR_MS + (q + 1) * QUARTER_MS;
      if (!mayFireAgain(last, at, coolDownMinutes)) continue;
      if (judge(count, negative, q === 3)) {
        events.push({ hour: h, quarter: q });
        last = at;
      }
    }
  }
  return events;
}

export interface SizeScore {
  total: number;
  /** With an event in any of its windows. */
  found: number;
  /** With an event in its first window. */
  firstWindow: number;
  /** ... of which fired while that window was still open. */
  whileOpen: number;
}

export interface Score {
  bySize: Record<string, SizeScore>;
  /** Windows from an incident's start to its first event, for each incident found, with its size. */
  delays: { sizeSigma: number; windows: number }[];
  falseAlerts: number;
  months: number;
  falseAlertsPerMonth: number;
}

export function score(year: SyntheticYear, events: AlertEvent[], incidents: Incident[]): Score {
  const bySize: Record<string, SizeScore> = {};
  const delays: Score['delays'] = [];
  const matched = new Set<AlertEvent>();
  for (const incident of incidents) {
    const s = (bySize[incident.sizeSigma] ??= { total: 0, found: 0, firstWindow: 0, whileOpen: 0 });
    s.total++;
    const inside = events.filter((e) => e.hour >= incident.startHour && e.hour < incident.startHour + incident.hours);
    for (const e of inside) matched.add(e);
    const first = inside[0];
    if (!first) continue;
    s.found++;
    delays.push({ sizeSigma: incident.sizeSigma, windows: first.hour - incident.startHour });
    if (first.hour === incident.startHour) {
      s.firstWindow++;
      if (first.quarter < 3) s.whileOpen++;
    }
  }
  const falseAlerts = events.filter((e) => !matched.has(e)).length;
  const months = (year.hours - year.firstScoredHour) / 24 / (365.25 / 12);
  return { bySize, delays, falseAlerts, months, falseAlertsPerMonth: falseAlerts / months };
}

/**
 * The default volume detector (with `params` over its defaults), the plain rule, and a reference that knows each
 * hour's true mean and σ.
 */
export function volumeDetectors(year: SyntheticYear, params: Partial<VolumeSpikeParams> = {}): ReplayDetector[] {
  const windows: WindowCount[] = Array.from(year.counts, (count, h) => ({ start: year.start + h * HOUR_MS, count }));
  const input = (h: number, hours: number) => ({ windowStart: year.start + h * HOUR_MS, history: windows.slice(Math.max(0, h - hours), h), historyStart: year.start });
  const seasonalHours = (params.baselineDays ?? 14) * 24;
  const judging = (baseline: ReturnType<typeof volumeBaseline>): Judge => (count, _negative, complete) => judgeVolume(baseline, { start: baseline.windowStart, count, complete }).spike;
  const changed = Object.keys(params).length ? ` ${JSON.stringify(params)}` : '';
  return [
    { name: `seasonal (default)${changed}`, kind: 'volume', judgeFor: (h) => judging(volumeBaseline(input(h, seasonalHours), params)) },
    { name: 'plain mean + 3σ, 14 days', kind: 'volume', judgeFor: (h) => judging(plainBaseline(input(h, PLAIN_BASELINE_HOURS))) },
    {
      name: 'reference: true mean and σ',
      kind: 'volume',
      judgeFor: (h) => {
        // The best a k = 3 rule could do: the generator's own mean and σ of the hour, the same exact tail.
        const mean = year.mean[h]!;
        const sigma = year.sigma[h]!;
        const threshold = Math.max(Math.floor(mean + 3 * sigma) + 1, countUpperQuantile(mean, sigma * sigma, normalUpperTail(3)));
        return (count) => count >= threshold;
      },
    },
  ];
}

/** The default share detector and the plain rule on shares. */
export function shareDetectors(year: SyntheticYear): ReplayDetector[] {
  const windows: ShareWindowCount[] = Array.from(year.counts, (count, h) => ({ start: year.start + h * HOUR_MS, count, negative: year.negatives[h]! }));
  const input = (h: number) => ({ windowStart: year.start + h * HOUR_MS, history: windows.slice(Math.max(0, h - PLAIN_BASELINE_HOURS), h), historyStart: year.start });
  const judging = (baseline: ReturnType<typeof shareBaseline>): Judge => (count, negative, complete) => judgeShare(baseline, { start: baseline.windowStart, count, negative, complete }).spike;
  return [
    { name: 'binomial (default)', kind: 'share', judgeFor: (h) => judging(shareBaseline(input(h))) },
    { name: 'plain mean + 3σ of shares', kind: 'share', judgeFor: (h) => judging(plainShareBaseline(input(h))) },
  ];
}
