// Is the number of posts in a window a spike? Two detectors with one shape of answer:
//   - the default, seasonal one: the expected count of this slot of the day and day of the week, followed to the
//     recent level, with a negative-binomial σ (never below the Poisson √mean), an exact tail for small counts, a
//     minimum count and no verdict before a baseline exists;
//   - the plain one (mean + k σ of every window of the last 14 days, as Huginn's peak detector), kept to compare.
// Each is split into the baseline of a window (the same all the window long, so an evaluator may keep it while the
// window is open) and the judgement of a count against it.
import { forecastNextWindow } from './seasonal.ts';
import { countUpperQuantile, normalUpperTail } from './tails.ts';
import type { CurrentWindow, SpikeInput, WindowCount } from './types.ts';
import { MINUTE_MS, baselineSpan, checkWindowParams, denseValues } from './windows.ts';

export interface VolumeSpikeParams {
  /** Window length in minutes; it must divide a day. */
  windowMinutes: number;
  /** How far back the baseline reaches. */
  baselineDays: number;
  /** How many σ above the expected count a spike is; also the false-alarm probability of a normal at k σ. */
  k: number;
  /** Fewer posts than this are never a spike, whatever the baseline (so 0 -> 2 is not one). */
  minCount: number;
  /** No verdict until this many days of history are known. */
  minBaselineDays: number;
  /** The expectation follows the observed/expected ratio of the last hours (0: it does not). */
  levelHours: number;
  /** Local midnight of the company, in minutes east of UTC: where one day of the week ends. */
  utcOffsetMinutes: number;
}

export const VOLUME_SPIKE_DEFAULTS: Readonly<VolumeSpikeParams> = Object.freeze({
  windowMinutes: 60,
  baselineDays: 14,
  k: 3,
  minCount: 3,
  minBaselineDays: 7,
  levelHours: 24,
  utcOffsetMinutes: 0,
});

export interface PlainSpikeParams {
  windowMinutes: number;
  baselineDays: number;
  k: number;
  /** Huginn judges once it holds more than 4 values. */
  minBaselineWindows: number;
}

export const PLAIN_SPIKE_DEFAULTS: Readonly<PlainSpikeParams> = Object.freeze({ windowMinutes: 60, baselineDays: 14, k: 3, minBaselineWindows: 5 });

/** What one window is judged against. */
export interface VolumeBaseline {
  rule: 'seasonal' | 'plain';
  windowStart: number;
  windowMinutes: number;
  /** false: too little known history to judge (no alert until the baseline exists). */
  ready: boolean;
  /** Baseline windows known, and how many are needed before there is a verdict. */
  baselineWindows: number;
  neededWindows: number;
  /** Start of the oldest baseline window (null when there is none). */
  baselineFrom: number | null;
  /** The baseline mean for this window: the expected count. */
  expected: number | null;
  sigma: number | null;
  /** The smallest count the baseline alone calls a spike. */
  baselineThreshold: number | null;
  /** The smallest count that fires: baselineThreshold, raised to minCount. */
  threshold: number | null;
  /** Seasonal rule: how the expected count came about. */
  model: { dispersion: number; level: number; seasonalFactor: number; weekly: boolean } | null;
  params: VolumeSpikeParams | PlainSpikeParams;
}

export type VolumeReason = 'above_threshold' | 'below_threshold' | 'below_min_count' | 'no_baseline';

export interface VolumeVerdict {
  spike: boolean;
  reason: VolumeReason;
  /** What fired it (or did not): the baseline with the window's count; JSON as it is. */
  evidence: VolumeEvidence;
}

export interface VolumeEvidence extends Omit<VolumeBaseline, 'windowStart' | 'baselineFrom'> {
  windowStart: string;
  baselineFrom: string | null;
  count: number;
  complete: boolean;
  /** (count - expected) / σ. */
  z: number | null;
}

type BaselineInput = Omit<SpikeInput<CurrentWindow, WindowCount>, 'current'> & { windowStart: number };

/** The default detector's baseline for the window starting at `windowStart`. */
export function volumeBaseline(input: BaselineInput, params: Partial<VolumeSpikeParams> = {}): VolumeBaseline {
  const p = resolveVolumeParams(params);
  const windowMs = p.windowMinutes * MINUTE_MS;
  const span = baselineSpan(input.windowStart, windowMs, p.baselineDays, input.historyStart);
  const neededWindows = Math.round((p.minBaselineDays * 1440) / p.windowMinutes);
  const base = emptyBaseline('seasonal', input.windowStart, p, span.length, neededWindows);
  if (span.length < neededWindows || span.length === 0) return base;
  const counts = denseValues(input.history, span, windowMs, (row) => row.count);
  const forecast = forecastNextWindow(counts, span.from, windowMs, {
    k: p.k,
    levelWindows: Math.round((p.levelHours * 60) / p.windowMinutes),
    utcOffsetMs: p.utcOffsetMinutes * MINUTE_MS,
  });
  const sigma = Math.sqrt(forecast.variance);
  // k σ of a normal understates the tail of a small count (Poisson(5) passes 5 + 3√5 four times as often as a
  // normal does): the threshold is also at least the count whose exact tail is as rare as k σ.
  const exact = countUpperQuantile(forecast.expected, forecast.variance, normalUpperTail(p.k));
  const baselineThreshold = Math.max(Math.floor(forecast.expected + p.k * sigma) + 1, exact);
  return {
    ...base,
    ready: true,
    baselineFrom: span.from,
    expected: forecast.expected,
    sigma,
    baselineThreshold,
    threshold: Math.max(baselineThreshold, p.minCount),
    model: { dispersion: forecast.dispersion, level: forecast.level, seasonalFactor: forecast.seasonalFactor, weekly: forecast.weekly },
  };
}

/** The plain rule's baseline: mean and population σ of every window of the baseline period, no floor, no minimum. */
export function plainBaseline(input: BaselineInput, params: Partial<PlainSpikeParams> = {}): VolumeBaseline {
  const p = { ...PLAIN_SPIKE_DEFAULTS, ...params };
  checkWindowParams(p.windowMinutes, p.baselineDays);
  const windowMs = p.windowMinutes * MINUTE_MS;
  const span = baselineSpan(input.windowStart, windowMs, p.baselineDays, input.historyStart);
  const base = emptyBaseline('plain', input.windowStart, p, span.length, p.minBaselineWindows);
  if (span.length < p.minBaselineWindows || span.length === 0) return base;
  const counts = denseValues(input.history, span, windowMs, (row) => row.count);
  let sum = 0;
  for (const c of counts) sum += c;
  const mean = sum / counts.length;
  let squares = 0;
  for (const c of counts) squares += (c - mean) ** 2;
  const sigma = Math.sqrt(squares / counts.length);
  // "Above mean + k σ": the smallest whole count strictly above it.
  const threshold = Math.floor(mean + p.k * sigma) + 1;
  return { ...base, ready: true, baselineFrom: span.from, expected: mean, sigma, baselineThreshold: threshold, threshold };
}

/** Judges the window's count so far against its baseline; an open window fires once it reaches the threshold. */
export function judgeVolume(baseline: VolumeBaseline, current: CurrentWindow): VolumeVerdict {
  if (current.start !== baseline.windowStart) {
    throw new RangeError(`the baseline is for the window starting at ${new Date(baseline.windowStart).toISOString()}, not ${new Date(current.start).toISOString()}`);
  }
  const evidence: VolumeEvidence = {
    ...baseline,
    windowStart: new Date(baseline.windowStart).toISOString(),
    baselineFrom: baseline.baselineFrom === null ? null : new Date(baseline.baselineFrom).toISOString(),
    count: current.count,
    complete: current.complete,
    z: baseline.expected !== null && baseline.sigma ? (current.count - baseline.expected) / baseline.sigma : null,
  };
  if (!baseline.ready) return { spike: false, reason: 'no_baseline', evidence };
  if (current.count >= baseline.threshold!) return { spike: true, reason: 'above_threshold', evidence };
  if (current.count >= baseline.baselineThreshold!) return { spike: false, reason: 'below_min_count', evidence };
  return { spike: false, reason: 'below_threshold', evidence };
}

/** The default detector in one call: is the current window (open or complete) a volume spike? */
export function detectVolumeSpike(input: SpikeInput<CurrentWindow, WindowCount>, params: Partial<VolumeSpikeParams> = {}): VolumeVerdict {
  return judgeVolume(volumeBaseline({ ...input, windowStart: input.current.start }, params), input.current);
}

/** The plain mean + k σ rule over the last 14 days of windows (Huginn's peak detector), for comparison. */
export function detectPlainSpike(input: SpikeInput<CurrentWindow, WindowCount>, params: Partial<PlainSpikeParams> = {}): VolumeVerdict {
  return judgeVolume(plainBaseline({ ...input, windowStart: input.current.start }, params), input.current);
}

export function resolveVolumeParams(params: Partial<VolumeSpikeParams>): VolumeSpikeParams {
  const p = { ...VOLUME_SPIKE_DEFAULTS, ...params };
  checkWindowParams(p.windowMinutes, p.baselineDays);
  if (!(p.k > 0)) throw new RangeError(`k must be above 0, got ${p.k}`);
  if (!Number.isInteger(p.minCount) || p.minCount < 1) throw new RangeError(`minCount must be a whole number from 1, got ${p.minCount}`);
  if (!(p.minBaselineDays > 0 && p.minBaselineDays <= p.baselineDays)) throw new RangeError(`minBaselineDays must be above 0 and at most baselineDays (${p.baselineDays}), got ${p.minBaselineDays}`);
  if (!(p.levelHours >= 0)) throw new RangeError(`levelHours must be 0 or more, got ${p.levelHours}`);
  if (!(Math.abs(p.utcOffsetMinutes) <= 14 * 60)) throw new RangeError(`utcOffsetMinutes must be within ±840, got ${p.utcOffsetMinutes}`);
  return p;
}

function emptyBaseline(rule: VolumeBaseline['rule'], windowStart: number, params: VolumeBaseline['params'], baselineWindows: number, neededWindows: number): VolumeBaseline {
  return {
    rule,
    windowStart,
    windowMinutes: params.windowMinutes,
    ready: false,
    baselineWindows,
    neededWindows,
    baselineFrom: null,
    expected: null,
    sigma: null,
    baselineThreshold: null,
    threshold: null,
    model: null,
    params,
  };
}
