// Is the share of negative posts in a window a spike? The default detector compares the window's negatives with the
// baseline share: σ of a window's share is binomial for its own number of posts, sqrt(p(1-p)/n), plus how much the
// share drifts between windows beyond that (τ, measured on the baseline), and small windows also need an exact
// binomial tail as rare as k σ; below a minimum volume there is no verdict at all. The plain rule (mean + k σ of
// the baseline windows' shares) is kept to compare.
import { binomialUpperQuantile, normalUpperTail } from './tails.ts';
import type { CurrentShareWindow, ShareWindowCount, SpikeInput } from './types.ts';
import { MINUTE_MS, baselineSpan, checkWindowParams, denseValues } from './windows.ts';

export interface ShareSpikeParams {
  windowMinutes: number;
  baselineDays: number;
  k: number;
  /** A window with fewer posts is never a share spike: 2 negatives out of 2 say nothing. */
  minVolume: number;
  minBaselineDays: number;
  /** No verdict until the baseline holds this many posts: a share needs posts, not only days. */
  minBaselinePosts: number;
  /** The expected share follows the share of the last hours (0: the whole baseline's share). */
  levelHours: number;
}

export const SHARE_SPIKE_DEFAULTS: Readonly<ShareSpikeParams> = Object.freeze({
  windowMinutes: 60,
  baselineDays: 14,
  k: 3,
  minVolume: 10,
  minBaselineDays: 7,
  minBaselinePosts: 50,
  levelHours: 24,
});

export interface ShareBaseline {
  rule: 'binomial' | 'plain';
  windowStart: number;
  windowMinutes: number;
  ready: boolean;
  baselineWindows: number;
  baselinePosts: number;
  baselineFrom: number | null;
  /** The share of negative posts this window is expected to have: the recent share, or the baseline's (plain rule). */
  share: number | null;
  /** The whole baseline's share. */
  pooledShare: number | null;
  /** Binomial rule: the drift of the share between windows beyond counting noise. Plain rule: σ of the shares. */
  spread: number | null;
  params: ShareSpikeParams;
}

export type ShareReason = 'above_threshold' | 'below_threshold' | 'below_min_volume' | 'no_baseline';

export interface ShareVerdict {
  spike: boolean;
  reason: ShareReason;
  evidence: ShareEvidence;
}

export interface ShareEvidence extends Omit<ShareBaseline, 'windowStart' | 'baselineFrom' | 'share'> {
  windowStart: string;
  baselineFrom: string | null;
  count: number;
  negative: number;
  complete: boolean;
  /** negative / count (null without posts). */
  windowShare: number | null;
  baselineShare: number | null;
  /** σ of the share of a window with this many posts. */
  sigma: number | null;
  /** The smallest number of negatives among these posts that fires, and it as a share. */
  threshold: number | null;
  thresholdShare: number | null;
}

type BaselineInput = Omit<SpikeInput<CurrentShareWindow, ShareWindowCount>, 'current'> & { windowStart: number };

// Passes of pulling the windows that strayed more than k σ back to k σ, so a past incident does not raise the share.
const CLEANING_PASSES = 2;
// How many posts' worth of weight the whole baseline's share keeps in the recent share.
const RECENT_PRIOR_POSTS = 20;

/** The default share detector's baseline for the window starting at `windowStart`. */
export function shareBaseline(input: BaselineInput, params: Partial<ShareSpikeParams> = {}): ShareBaseline {
  const p = resolveShareParams(params);
  const windowMs = p.windowMinutes * MINUTE_MS;
  const span = baselineSpan(input.windowStart, windowMs, p.baselineDays, input.historyStart);
  const counts = denseValues(input.history, span, windowMs, (row) => row.count);
  const negatives = denseValues(input.history, span, windowMs, (row) => row.negative);
  const base = emptyBaseline('binomial', input.windowStart, p, span.length, sum(counts));
  if (!enoughHistory(base, p)) return base;
  const windows = Math.round((p.levelHours * 60) / p.windowMinutes);
  const x = Float64Array.from(negatives);
  let fit = fitShare(counts, x, windows);
  for (let pass = 0; pass < CLEANING_PASSES; pass++) {
    for (let i = 0; i < counts.length; i++) {
      const n = counts[i]!;
      const q = fit.expected[i]!;
      const reach = p.k * Math.sqrt(n * q * (1 - q) + n * n * fit.drift);
      x[i] = Math.min(Math.max(negatives[i]!, n * q - reach), n * q + reach);
    }
    fit = fitShare(counts, x, windows);
  }
  return { ...base, ready: true, baselineFrom: span.from, share: fit.expected[counts.length]!, pooledShare: fit.pooled, spread: Math.sqrt(fit.drift) };
}

/** The plain rule's baseline: mean and population σ of the shares of the baseline windows that had posts. */
export function plainShareBaseline(input: BaselineInput, params: Partial<ShareSpikeParams> = {}): ShareBaseline {
  const p = resolveShareParams(params);
  const windowMs = p.windowMinutes * MINUTE_MS;
  const span = baselineSpan(input.windowStart, windowMs, p.baselineDays, input.historyStart);
  const counts = denseValues(input.history, span, windowMs, (row) => row.count);
  const negatives = denseValues(input.history, span, windowMs, (row) => row.negative);
  const base = emptyBaseline('plain', input.windowStart, p, span.length, sum(counts));
  if (!enoughHistory(base, p)) return base;
  const shares: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) shares.push(negatives[i]! / counts[i]!);
  const mean = sum(shares) / shares.length;
  const sigma = Math.sqrt(sum(shares.map((s) => (s - mean) ** 2)) / shares.length);
  return { ...base, ready: true, baselineFrom: span.from, share: mean, pooledShare: mean, spread: sigma };
}

/** Judges the window's negatives so far against its baseline. */
export function judgeShare(baseline: ShareBaseline, current: CurrentShareWindow): ShareVerdict {
  if (current.start !== baseline.windowStart) {
    throw new RangeError(`the baseline is for the window starting at ${new Date(baseline.windowStart).toISOString()}, not ${new Date(current.start).toISOString()}`);
  }
  const { share, spread, params } = baseline;
  const n = current.count;
  let sigma: number | null = null;
  let threshold: number | null = null;
  if (baseline.ready && n > 0) {
    const p0 = share!;
    if (baseline.rule === 'plain') {
      sigma = spread!;
      threshold = Math.floor(n * (p0 + params.k * sigma)) + 1;
    } else {
      sigma = Math.sqrt((p0 * (1 - p0)) / n + spread! ** 2);
      // k σ is taken on the log-odds scale, where a share's spread is symmetric: a share of 0.2 strays further up
      // than down, and a share-scale normal would call its ordinary upward days spikes.
      const logOdds = Math.log(p0 / (1 - p0)) + (params.k * sigma) / (p0 * (1 - p0));
      const limit = 1 / (1 + Math.exp(-logOdds));
      // A handful of posts makes the share lumpy: 4 of 10 happens by chance far more often than a normal at k σ says.
      threshold = Math.min(n + 1, Math.max(Math.floor(n * limit) + 1, binomialUpperQuantile(n, p0, normalUpperTail(params.k))));
    }
  }
  const evidence: ShareEvidence = {
    rule: baseline.rule,
    windowStart: new Date(baseline.windowStart).toISOString(),
    windowMinutes: baseline.windowMinutes,
    ready: baseline.ready,
    baselineWindows: baseline.baselineWindows,
    baselinePosts: baseline.baselinePosts,
    pooledShare: baseline.pooledShare,
    baselineFrom: baseline.baselineFrom === null ? null : new Date(baseline.baselineFrom).toISOString(),
    spread,
    params,
    count: n,
    negative: current.negative,
    complete: current.complete,
    windowShare: n > 0 ? current.negative / n : null,
    baselineShare: share,
    sigma,
    threshold,
    thresholdShare: threshold === null ? null : threshold / n,
  };
  if (!baseline.ready) return { spike: false, reason: 'no_baseline', evidence };
  if (n < params.minVolume) return { spike: false, reason: 'below_min_volume', evidence };
  if (current.negative >= threshold!) return { spike: true, reason: 'above_threshold', evidence };
  return { spike: false, reason: 'below_threshold', evidence };
}

/** The default share detector in one call. */
export function detectShareSpike(input: SpikeInput<CurrentShareWindow, ShareWindowCount>, params: Partial<ShareSpikeParams> = {}): ShareVerdict {
  return judgeShare(shareBaseline({ ...input, windowStart: input.current.start }, params), input.current);
}

/** The plain mean + k σ rule on the windows' shares, with the same minimum volume, for comparison. */
export function detectPlainShareSpike(input: SpikeInput<CurrentShareWindow, ShareWindowCount>, params: Partial<ShareSpikeParams> = {}): ShareVerdict {
  return judgeShare(plainShareBaseline({ ...input, windowStart: input.current.start }, params), input.current);
}

export function resolveShareParams(params: Partial<ShareSpikeParams>): ShareSpikeParams {
  const p = { ...SHARE_SPIKE_DEFAULTS, ...params };
  checkWindowParams(p.windowMinutes, p.baselineDays);
  if (!(p.k > 0)) throw new RangeError(`k must be above 0, got ${p.k}`);
  if (!Number.isInteger(p.minVolume) || p.minVolume < 1) throw new RangeError(`minVolume must be a whole number from 1, got ${p.minVolume}`);
  if (!(p.minBaselineDays > 0 && p.minBaselineDays <= p.baselineDays)) throw new RangeError(`minBaselineDays must be above 0 and at most baselineDays (${p.baselineDays}), got ${p.minBaselineDays}`);
  if (!(p.levelHours >= 0)) throw new RangeError(`levelHours must be 0 or more, got ${p.levelHours}`);
  if (!(p.minBaselinePosts >= 1)) throw new RangeError(`minBaselinePosts must be 1 or more, got ${p.minBaselinePosts}`);
  return p;
}

/**
 * The share each window (and the one after the last) is expected to have, the whole baseline's share, and the
 * drift τ² of the windows' shares around their expectation beyond counting noise, by the method of moments:
 * Var(negatives of a window) = n q (1 - q) + n² τ².
 */
function fitShare(counts: Float64Array, negatives: Float64Array, windows: number): { expected: Float64Array; pooled: number; drift: number } {
  // Half a negative and half a positive more (Jeffreys' prior): a baseline without a single negative post does not
  // make the first one a certainty of a spike.
  const pooled = (sum(negatives) + 0.5) / (sum(counts) + 1);
  const expected = new Float64Array(counts.length + 1).fill(pooled);
  if (windows > 0) {
    // The share drifts for days at a time (a price change, a slow support queue): a window is compared with the
    // share of the hours before it, which the whole baseline's share pulls toward itself while they hold few posts.
    let posts = 0;
    let bad = 0;
    for (let i = 0; i <= counts.length; i++) {
      expected[i] = (bad + RECENT_PRIOR_POSTS * pooled) / (posts + RECENT_PRIOR_POSTS);
      if (i === counts.length) break;
      posts += counts[i]!;
      bad += negatives[i]!;
      if (i >= windows) {
        posts -= counts[i - windows]!;
        bad -= negatives[i - windows]!;
      }
    }
  }
  let excess = 0;
  let weight = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n === 0) continue;
    const q = expected[i]!;
    excess += (negatives[i]! - n * q) ** 2 - n * q * (1 - q);
    weight += n * n;
  }
  return { expected, pooled, drift: weight > 0 ? Math.max(0, excess / weight) : 0 };
}

function enoughHistory(base: ShareBaseline, p: ShareSpikeParams): boolean {
  return base.baselineWindows >= Math.round((p.minBaselineDays * 1440) / p.windowMinutes) && base.baselinePosts >= p.minBaselinePosts;
}

function emptyBaseline(rule: ShareBaseline['rule'], windowStart: number, params: ShareSpikeParams, baselineWindows: number, baselinePosts: number): ShareBaseline {
  return { rule, windowStart, windowMinutes: params.windowMinutes, ready: false, baselineWindows, baselinePosts, baselineFrom: null, share: null, pooledShare: null, spread: null, params };
}

function sum(xs: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < xs.length; i++) total += xs[i]!;
  return total;
}
