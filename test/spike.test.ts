import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_COOL_DOWN_MINUTES, mayFireAgain } from '../lib/alerts/cool-down.ts';
import { SHARE_SPIKE_DEFAULTS, detectPlainShareSpike, detectShareSpike, shareBaseline } from '../lib/alerts/share.ts';
import { VOLUME_SPIKE_DEFAULTS, detectPlainSpike, detectVolumeSpike, judgeVolume, volumeBaseline } from '../lib/alerts/spike.ts';
import { binomialUpperQuantile, countUpperQuantile, normalUpperTail } from '../lib/alerts/tails.ts';
import type { ShareWindowCount, WindowCount } from '../lib/alerts/types.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// A Monday, 00:00 UTC.
const NOW = Date.UTC(2025, 2, 3);

/** Seeded Poisson counts, so a test's baseline looks like real posts but never changes. */
function poissonSource(seed: number): (mean: number) => number {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (mean) => {
    let k = 0;
    let p = next();
    while (p > Math.exp(-mean)) {
      p *= next();
      k++;
    }
    return k;
  };
}

/** Hourly windows for the `days` before `end`, each with the count `countAt(start)` gives. */
function hours(days: number, countAt: (start: number) => number, end = NOW): WindowCount[] {
  return Array.from({ length: days * 24 }, (_, i) => {
    const start = end - (days * 24 - i) * HOUR;
    return { start, count: countAt(start) };
  });
}

const steady = (mean: number, seed = 1) => {
  const draw = poissonSource(seed);
  return hours(14, () => draw(mean));
};

describe('the volume spike detector', () => {
  test('gives no verdict until the baseline exists, however many posts arrive', () => {
    const history = hours(2, () => 5);
    const verdict = detectVolumeSpike({ current: { start: NOW, count: 500, complete: true }, history, historyStart: NOW - 2 * DAY });
    assert.equal(verdict.spike, false);
    assert.equal(verdict.reason, 'no_baseline');
    assert.equal(verdict.evidence.baselineWindows, 48);
    assert.equal(verdict.evidence.neededWindows, 7 * 24);
    assert.equal(verdict.evidence.threshold, null);
  });

  test('counts missing windows as empty, but none from before the history starts', () => {
    const verdict = detectVolumeSpike({ current: { start: NOW, count: 0, complete: true }, history: [], historyStart: NOW - 10 * DAY });
    assert.equal(verdict.reason, 'below_threshold');
    assert.equal(verdict.evidence.baselineWindows, 10 * 24);
    assert.equal(verdict.evidence.baselineFrom, new Date(NOW - 10 * DAY).toISOString());
  });

  test('does not call 0 -> 2 a spike: after two quiet weeks, two posts are below the minimum count, three fire', () => {
    const input = (count: number) => ({ current: { start: NOW, count, complete: true }, history: [], historyStart: NOW - 14 * DAY });
    const two = detectVolumeSpike(input(2));
    assert.equal(two.spike, false);
    assert.equal(two.reason, 'below_min_count');
    assert.equal(two.evidence.threshold, VOLUME_SPIKE_DEFAULTS.minCount);
    assert.equal(detectVolumeSpike(input(3)).spike, true);
  });

  test('fires on a jump of 6σ above a steady baseline, not on one of 2σ', () => {
    const history = steady(20);
    const probe = detectVolumeSpike({ current: { start: NOW, count: 0, complete: true }, history, historyStart: 0 }).evidence;
    const at = (z: number) => Math.ceil(probe.expected! + z * probe.sigma!);
    assert.equal(detectVolumeSpike({ current: { start: NOW, count: at(6), complete: true }, history, historyStart: 0 }).spike, true);
    assert.equal(detectVolumeSpike({ current: { start: NOW, count: at(2), complete: true }, history, historyStart: 0 }).spike, false);
  });

  test('knows the week: a normal Monday-morning peak does not fire, though the plain rule calls it a spike', () => {
    const draw = poissonSource(2);
    const mondayMorning = (start: number) => new Date(start).getUTCDay() === 1 && new Date(start).getUTCHours() >= 8 && new Date(start).getUTCHours() < 12;
    const history = hours(14, (start) => draw(mondayMorning(start) ? 60 : 10), NOW + 10 * HOUR);
    const input = { current: { start: NOW + 10 * HOUR, count: 66, complete: true }, history, historyStart: 0 };
    const seasonal = detectVolumeSpike(input);
    assert.equal(seasonal.spike, false, JSON.stringify(seasonal.evidence));
    assert.ok(seasonal.evidence.expected! > 40, `expected ${seasonal.evidence.expected} on a Monday at 10:00`);
    assert.equal(detectPlainSpike(input).spike, true);
  });

  test('fires on a window still open as soon as its count so far reaches the threshold of a whole window', () => {
    const history = steady(8);
    const baseline = volumeBaseline({ windowStart: NOW, history, historyStart: 0 });
    const threshold = baseline.threshold!;
    const soFar = (count: number) => judgeVolume(baseline, { start: NOW, count, complete: false });
    assert.equal(soFar(threshold - 1).spike, false);
    const fired = soFar(threshold);
    assert.equal(fired.spike, true);
    assert.equal(fired.evidence.complete, false);
    assert.equal(judgeVolume(baseline, { start: NOW, count: threshold, complete: true }).spike, true, 'the same count fires once the window is complete');
  });

  test('is not blinded by a past incident: one hour of 400 posts in the baseline barely moves the threshold', () => {
    const clean = steady(20, 3);
    const spiked = clean.map((w, i) => (i === 100 ? { ...w, count: 400 } : w));
    const threshold = (history: WindowCount[]) => volumeBaseline({ windowStart: NOW, history, historyStart: 0 }).threshold!;
    assert.ok(threshold(spiked) - threshold(clean) <= 2, `${threshold(clean)} -> ${threshold(spiked)}`);
  });

  test('records what it judged: the count, the expected count and σ, the threshold, the baseline and the parameters', () => {
    const history = steady(12, 4);
    const { evidence } = detectVolumeSpike({ current: { start: NOW, count: 30, complete: true }, history, historyStart: 0 });
    assert.equal(evidence.rule, 'seasonal');
    assert.equal(evidence.windowStart, new Date(NOW).toISOString());
    assert.equal(evidence.windowMinutes, 60);
    assert.equal(evidence.count, 30);
    assert.equal(evidence.complete, true);
    assert.equal(evidence.baselineWindows, 14 * 24);
    assert.equal(evidence.baselineFrom, new Date(NOW - 14 * DAY).toISOString());
    assert.ok(Math.abs(evidence.expected! - 12) < 2, `expected ${evidence.expected}`);
    assert.ok(evidence.sigma! >= Math.sqrt(evidence.expected!), 'σ is at least the Poisson √mean');
    assert.ok(evidence.threshold! >= evidence.expected! + 3 * evidence.sigma!);
    assert.equal(evidence.threshold, Math.max(evidence.baselineThreshold!, VOLUME_SPIKE_DEFAULTS.minCount));
    assert.ok(Math.abs(evidence.z! - (30 - evidence.expected!) / evidence.sigma!) < 1e-12);
    assert.deepEqual(evidence.params, VOLUME_SPIKE_DEFAULTS);
    assert.ok(evidence.model && evidence.model.weekly);
    assert.doesNotThrow(() => JSON.stringify(evidence));
  });

  test('the plain rule is the mean + 3σ of every baseline window, with no floor and no minimum', () => {
    const history = hours(14, (start) => (new Date(start).getUTCHours() % 2 === 0 ? 0 : 2));
    const { evidence, spike } = detectPlainSpike({ current: { start: NOW, count: 5, complete: true }, history, historyStart: 0 });
    assert.equal(evidence.rule, 'plain');
    assert.equal(evidence.expected, 1);
    assert.equal(evidence.sigma, 1);
    assert.equal(evidence.threshold, 5);
    assert.equal(spike, true);
  });

  test('refuses past windows off the grid of the current one, and a window length that does not divide a day', () => {
    const history = [{ start: NOW - 90 * 60_000, count: 3 }];
    assert.throws(() => detectVolumeSpike({ current: { start: NOW, count: 1, complete: true }, history, historyStart: 0 }), RangeError);
    assert.throws(() => detectVolumeSpike({ current: { start: NOW, count: 1, complete: true }, history: [], historyStart: 0 }, { windowMinutes: 100 }), /divides a day/);
  });
});

describe('the negative-share spike detector', () => {
  const history = (negativeShare: number): ShareWindowCount[] => {
    const draw = poissonSource(5);
    return hours(14, () => draw(20)).map((w) => ({ ...w, negative: Math.round(w.count * negativeShare) }));
  };

  test('needs the minimum volume: 9 negatives of 9 posts say nothing, 10 of 10 fire', () => {
    const past = history(0.2);
    const judge = (count: number, negative: number) => detectShareSpike({ current: { start: NOW, count, negative, complete: true }, history: past, historyStart: 0 });
    const nine = judge(9, 9);
    assert.equal(nine.spike, false);
    assert.equal(nine.reason, 'below_min_volume');
    assert.equal(judge(10, 10).spike, true);
  });

  test('asks more of a small window than of a big one: 6 of 12 is chance, 60 of 120 is a spike', () => {
    const past = history(0.2);
    const judge = (count: number, negative: number) => detectShareSpike({ current: { start: NOW, count, negative, complete: true }, history: past, historyStart: 0 });
    assert.equal(judge(12, 6).spike, false);
    assert.equal(judge(120, 60).spike, true);
  });

  test('records the window share, the baseline share, σ for this many posts and the negatives needed', () => {
    const { evidence, spike } = detectShareSpike({ current: { start: NOW, count: 40, negative: 30, complete: false }, history: history(0.2), historyStart: 0 });
    assert.equal(spike, true);
    assert.equal(evidence.rule, 'binomial');
    assert.equal(evidence.windowShare, 0.75);
    assert.ok(Math.abs(evidence.baselineShare! - 0.2) < 0.02, `baseline share ${evidence.baselineShare}`);
    assert.ok(evidence.sigma! >= Math.sqrt((0.2 * 0.8) / 40) * 0.9);
    assert.ok(evidence.threshold! > 40 * 0.2 && evidence.threshold! <= 30);
    assert.equal(evidence.thresholdShare, evidence.threshold! / 40);
    assert.equal(evidence.complete, false);
    assert.equal(evidence.baselineWindows, 14 * 24);
    assert.deepEqual(evidence.params, SHARE_SPIKE_DEFAULTS);
  });

  test('gives no verdict on a baseline of too few posts', () => {
    const sparse = hours(14, (start) => (start % DAY === 0 ? 1 : 0)).map((w) => ({ ...w, negative: 0 }));
    assert.equal(shareBaseline({ windowStart: NOW, history: sparse, historyStart: 0 }).ready, false);
    assert.equal(detectPlainShareSpike({ current: { start: NOW, count: 20, negative: 20, complete: true }, history: sparse, historyStart: 0 }).reason, 'no_baseline');
  });
});

describe('tails and cool-down', () => {
  test('the exact Poisson threshold is as rare as 3σ of a normal: 14 posts when 5 are expected', () => {
    assert.ok(Math.abs(normalUpperTail(3) - 0.0013499) < 1e-7);
    assert.equal(countUpperQuantile(5, 5, normalUpperTail(3)), 14);
    assert.ok(countUpperQuantile(5, 10, normalUpperTail(3)) > 14, 'an overdispersed count needs more');
    assert.equal(binomialUpperQuantile(10, 0.2, normalUpperTail(3)), 7);
  });

  test('a rule fires again only once its cool-down has passed', () => {
    const fired = NOW;
    assert.equal(mayFireAgain(null, fired), true);
    assert.equal(mayFireAgain(fired, fired + DEFAULT_COOL_DOWN_MINUTES * 60_000 - 1), false);
    assert.equal(mayFireAgain(fired, fired + DEFAULT_COOL_DOWN_MINUTES * 60_000), true);
  });
});
