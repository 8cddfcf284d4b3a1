// The expected count of the next window, and how far it may stray, from the baseline windows before it. The model:
//
//   expected = level × slot-of-day factor × day-of-week factor × hour-of-week correction × recent level ratio
//
// The first three are fitted to the baseline by iterative proportional fitting (the Poisson maximum-likelihood fit
// of a two-way multiplicative table); the hour-of-week correction is what the two weeks of a slot say beyond that,
// shrunk by empirical Bayes; the recent level ratio is observed over expected in the last hours. Counts that strayed
// more than k σ from the fit are pulled back to k σ and the fit redone, so a past incident does not raise the
// baseline. The variance is negative-binomial, mean + dispersion × mean², never below the Poisson mean; the
// dispersion is measured on how well the same model forecasts each baseline window.
import { DAY_MS } from './windows.ts';

export interface SeasonalOptions {
  /** Where the pulled-back counts are clipped, in σ. */
  k: number;
  /** Windows of the recent level ratio (0: none). */
  levelWindows: number;
  /** Shifts the day boundary from UTC midnight to the company's local midnight. */
  utcOffsetMs: number;
}

export interface SeasonalForecast {
  expected: number;
  variance: number;
  /** The negative-binomial dispersion: 0 is Poisson. */
  dispersion: number;
  /** Observed over expected in the last levelWindows windows (1: as the baseline predicts). */
  level: number;
  /** slot-of-day × day-of-week × hour-of-week factor of the next window (1: an average window). */
  seasonalFactor: number;
  /** Whether day-of-week factors were fitted (only from two weeks of baseline). */
  weekly: boolean;
}

// A slot's factor is estimated as if it had this many more posts at the average rate: a quiet source with a handful
// of posts per slot gets a flat profile instead of one drawn by noise; a busy one is unaffected.
const FACTOR_PRIOR_POSTS = 4;
// The same for the recent level ratio.
const LEVEL_PRIOR_POSTS = 10;
// One sample of each weekday cannot tell a weekday's habit from noise.
const WEEKLY_FROM_DAYS = 14;
// A fit, then two rounds of pulling strays back to k σ and fitting again.
const PASSES = 3;
const FIT_ITERATIONS = 4;
// The share of an hour-of-week cell's own windows in its pooled correction; the rest comes from the hours beside it.
const SELF_WEIGHT = 0.5;

/** The variance of a pooled observed/expected ratio from counting noise alone. */
const noiseOf = (variance: number, expected: number) => variance / (expected * expected);

/** Forecasts the window right after `counts` (the baseline, oldest first, the first starting at `from`). */
export function forecastNextWindow(counts: Float64Array, from: number, windowMs: number, opts: SeasonalOptions): SeasonalForecast {
  const n = counts.length;
  const slots = Math.round(DAY_MS / windowMs);
  const weekly = n * windowMs >= WEEKLY_FROM_DAYS * DAY_MS;
  const slotOf = new Uint16Array(n + 1);
  const dayOf = new Uint8Array(n + 1);
  const cells = new Float64Array(slots * 7);
  for (let i = 0; i <= n; i++) {
    const t = from + i * windowMs + opts.utcOffsetMs;
    const day = Math.floor(t / DAY_MS);
    slotOf[i] = Math.floor((t - day * DAY_MS) / windowMs);
    dayOf[i] = weekly ? ((day % 7) + 7) % 7 : 0;
    if (i < n) cells[slotOf[i]! * 7 + dayOf[i]!]! += 1;
  }

  const slotFactor = new Float64Array(slots).fill(1);
  const dayFactor = new Float64Array(7).fill(1);
  const interaction = new Float64Array(slots * 7).fill(1);
  const y = Float64Array.from(counts);
  const separable = new Float64Array(n);
  const fitted = new Float64Array(n);
  const forecasts = new Float64Array(n);
  const leftOut = new Float64Array(n).fill(1);
  let level = 0;
  let dispersion = 0;
  for (let pass = 0; pass < PASSES; pass++) {
    level = fitFactors(y, slotOf, dayOf, cells, slotFactor, dayFactor, weekly);
    for (let i = 0; i < n; i++) separable[i] = level * slotFactor[slotOf[i]!]! * dayFactor[dayOf[i]!]!;
    if (weekly) fitInteraction(y, separable, slotOf, dayOf, dispersion, interaction, leftOut);
    for (let i = 0; i < n; i++) fitted[i] = separable[i]! * interaction[dayOf[i]! * slots + slotOf[i]!]!;
    const ratios = levelRatios(y, fitted, opts.levelWindows);
    let squares = 0;
    let means = 0;
    let meanSquares = 0;
    for (let i = 0; i < n; i++) {
      // Each window is forecast as the next one would be, but without itself in its own hour-of-week cell: in-sample,
      // a cell of two windows would explain half of each one's noise away.
      const mu = separable[i]! * leftOut[i]! * ratios[i]!;
      forecasts[i] = mu;
      squares += (y[i]! - mu) ** 2;
      means += mu;
      meanSquares += mu * mu;
    }
    dispersion = meanSquares > 0 ? Math.max(0, (squares - means) / meanSquares) : 0;
    if (pass === PASSES - 1) break;
    for (let i = 0; i < n; i++) {
      const mu = forecasts[i]!;
      const reach = opts.k * Math.sqrt(mu + dispersion * mu * mu);
      y[i] = Math.min(Math.max(counts[i]!, mu - reach), mu + reach);
    }
  }

  const cell = dayOf[n]! * slots + slotOf[n]!;
  const seasonalFactor = slotFactor[slotOf[n]!]! * dayFactor[dayOf[n]!]! * interaction[cell]!;
  const ratio = levelRatios(y, fitted, opts.levelWindows)[n]!;
  const expected = level * seasonalFactor * ratio;
  // The separable factors were fitted on the windows the dispersion is measured on, so in-sample residuals
  // understate the error of a forecast; the usual degrees-of-freedom correction puts it back.
  const parameters = slots + (weekly ? 6 : 0);
  const variance = (expected + dispersion * expected ** 2) * (n / Math.max(1, n - parameters));
  return { expected, variance, dispersion, level: ratio, seasonalFactor, weekly };
}

/**
 * The hour-of-week correction to the separable fit (a Saturday night unlike a weekday night), by empirical Bayes:
 * each cell's observed/expected ratio, pooled with its neighbours in time, shrunk toward 1 by how noisy it is
 * compared to how much the cells really differ. Fills `interaction` per cell and `leftOut` per window (its cell's
 * correction without that window).
 */
function fitInteraction(y: Float64Array, separable: Float64Array, slotOf: Uint16Array, dayOf: Uint8Array, dispersion: number, interaction: Float64Array, leftOut: Float64Array): void {
  const cellCount = interaction.length;
  const slots = cellCount / 7;
  const observed = new Float64Array(cellCount);
  const expected = new Float64Array(cellCount);
  const variance = new Float64Array(cellCount);
  for (let i = 0; i < y.length; i++) {
    const c = dayOf[i]! * slots + slotOf[i]!;
    observed[c]! += y[i]!;
    expected[c]! += separable[i]!;
    variance[c]! += separable[i]! + dispersion * separable[i]! ** 2;
  }
  // Two weeks give two windows a cell: too few alone. The correction changes slowly from one hour to the next
  // (the separable fit already follows the day's sharp edges), so each cell borrows half its weight from the hours
  // on either side of the same day; never across midnight, where the day factor itself changes at once.
  const o = new Float64Array(cellCount);
  const e = new Float64Array(cellCount);
  const v = new Float64Array(cellCount);
  const self = new Float64Array(cellCount);
  for (let c = 0; c < cellCount; c++) {
    const slot = c % slots;
    const left = slot > 0 ? (1 - SELF_WEIGHT) / 2 : 0;
    const right = slot < slots - 1 ? (1 - SELF_WEIGHT) / 2 : 0;
    const total = SELF_WEIGHT + left + right;
    const [ws, wl, wr] = [SELF_WEIGHT / total, left / total, right / total];
    self[c] = ws;
    const pooled = (a: Float64Array, weight: (w: number) => number) => weight(ws) * a[c]! + (wl ? weight(wl) * a[c - 1]! : 0) + (wr ? weight(wr) * a[c + 1]! : 0);
    o[c] = pooled(observed, (w) => w);
    e[c] = pooled(expected, (w) => w);
    // A weighted sum's variance weighs each part's variance by the square of its weight.
    v[c] = pooled(variance, (w) => w * w);
  }
  // How much the days really differ, per hour of the day (with the hours beside it): weekdays may all be alike at
  // noon and the weekend unlike them at 3 am, and one figure for the whole week would shrink the night's large
  // correction away with the noon's small ones.
  const spread = new Float64Array(slots);
  const used = new Float64Array(slots);
  for (let c = 0; c < cellCount; c++) {
    if (!(e[c]! > 0)) continue;
    spread[c % slots]! += (o[c]! / e[c]! - 1) ** 2 - noiseOf(v[c]!, e[c]!);
    used[c % slots]! += 1;
  }
  const between = new Float64Array(slots);
  for (let slot = 0; slot < slots; slot++) {
    let sum = 0;
    let count = 0;
    for (const near of slots >= 3 ? [slot - 1, slot, slot + 1] : [slot]) {
      const k = (near + slots) % slots;
      sum += spread[k]!;
      count += used[k]!;
    }
    between[slot] = count > 0 ? Math.max(0, sum / count) : 0;
  }
  const shrunk = (c: number, oc: number, ec: number, vc: number) => {
    const b = between[c % slots]!;
    return ec > 1e-9 && b > 0 ? 1 + (b / (b + noiseOf(vc, ec))) * (oc / ec - 1) : 1;
  };
  for (let c = 0; c < cellCount; c++) interaction[c] = shrunk(c, o[c]!, e[c]!, v[c]!);
  for (let i = 0; i < y.length; i++) {
    const c = dayOf[i]! * slots + slotOf[i]!;
    const own = separable[i]! + dispersion * separable[i]! ** 2;
    leftOut[i] = shrunk(c, o[c]! - self[c]! * y[i]!, e[c]! - self[c]! * separable[i]!, v[c]! - self[c]! ** 2 * own);
  }
}

/** Alternates the slot and day factors to the Poisson fit of y; returns the overall level (posts per window). */
function fitFactors(y: Float64Array, slotOf: Uint16Array, dayOf: Uint8Array, cells: Float64Array, slotFactor: Float64Array, dayFactor: Float64Array, weekly: boolean): number {
  const slots = slotFactor.length;
  const bySlot = new Float64Array(slots);
  const byDay = new Float64Array(7);
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    bySlot[slotOf[i]!]! += y[i]!;
    byDay[dayOf[i]!]! += y[i]!;
    total += y[i]!;
  }
  let level = total / Math.max(1, y.length);
  for (let iteration = 0; iteration < FIT_ITERATIONS; iteration++) {
    for (let s = 0; s < slots; s++) {
      let expected = 0;
      for (let d = 0; d < 7; d++) expected += cells[s * 7 + d]! * dayFactor[d]!;
      slotFactor[s] = (bySlot[s]! + FACTOR_PRIOR_POSTS) / (level * expected + FACTOR_PRIOR_POSTS);
    }
    if (weekly) {
      for (let d = 0; d < 7; d++) {
        let expected = 0;
        for (let s = 0; s < slots; s++) expected += cells[s * 7 + d]! * slotFactor[s]!;
        dayFactor[d] = (byDay[d]! + FACTOR_PRIOR_POSTS) / (level * expected + FACTOR_PRIOR_POSTS);
      }
    }
    let fitted = 0;
    for (let s = 0; s < slots; s++) for (let d = 0; d < 7; d++) fitted += cells[s * 7 + d]! * slotFactor[s]! * dayFactor[d]!;
    level = fitted > 0 ? total / fitted : 0;
  }
  return level;
}

/**
 * For each window, and the one after the last, observed over expected in the `windows` windows before it, both
 * with LEVEL_PRIOR_POSTS added so a short or quiet stretch stays near 1.
 */
function levelRatios(y: Float64Array, fitted: Float64Array, windows: number): Float64Array {
  const n = y.length;
  const out = new Float64Array(n + 1).fill(1);
  if (windows <= 0) return out;
  let observed = 0;
  let expected = 0;
  for (let i = 0; i <= n; i++) {
    out[i] = (observed + LEVEL_PRIOR_POSTS) / (expected + LEVEL_PRIOR_POSTS);
    if (i === n) break;
    observed += y[i]!;
    expected += fitted[i]!;
    if (i >= windows) {
      observed -= y[i - windows]!;
      expected -= fitted[i - windows]!;
    }
  }
  return out;
}
