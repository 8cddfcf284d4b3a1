// A synthetic year of hourly post counts for the spike replay (scripts/bench/spike.ts), reproducible from a seed.
//
// Each hour's expected count, before noise, is
//   mean(h) = postsPerHour × trend × weekday × hour-of-day × holiday
//   - trend: linear from 0.85 to 1.15 over the whole span (a company that grows 35 % a year);
//   - weekday: Mon 1.20, Tue 1.10, Wed 1.05, Thu 1.00, Fri 0.95, Sat 0.75, Sun 0.70 (divided by their mean);
//   - hour of day: a working-day curve, lowest at 03:00 (about a tenth of the peak), rising from 06:00 to a peak at
//     10:00-14:00 and an evening shoulder; on weekends the same curve two hours later and flatter
//     (0.6 × curve + 0.4), so weekdays and weekends differ in shape, not only in level;
//   - holiday: 0.5 on Jan 1, Easter Monday, May 1, Dec 24-26 and Dec 31, 0.7 on the other days from Dec 24 to
//     Jan 1, 0.8 for a summer week (Aug 11-17).
// The noise, in two layers:
//   - a slow level: exp(X - s²/2) with X an hourly AR(1), stationary sd s = 0.15, correlation exp(-1/24) per hour
//     (a day of more or less attention than usual, lasting about a day);
//   - bursts: the count is Poisson(mean × level × G), G ~ Gamma(mean 1, variance 0.02) each hour, so the counts are
//     negative binomial, overdispersed beyond Poisson even when the level is known.
// The σ of an hour is the exact standard deviation of its count under this model, sqrt(m + m²((1+φ)e^{s²} - 1)).
//
// Incidents: 12 of each size 3, 5, 8 and 12 σ a year, each lasting 1-6 hours (uniform), starting on an hour at a
// uniformly random time at least 72 hours from any other. Each of their hours adds Poisson(size × σ of that hour)
// posts (a plateau), on top of the hour's normal count.
//
// Negative share: every post is negative with probability logistic(logit(0.2) + Y), Y an AR(1) with sd 0.3 and
// correlation exp(-1/48) per hour. Share incidents (12 of each size, 1-6 hours, a schedule of their own) raise that
// probability to 0.2 + size × σ_share (at most 0.95), σ_share = sqrt(0.2 × 0.8 / mean(h) + τ²) the standard
// deviation of an hour's share, τ = 0.2 × 0.8 × 0.3 the drift's (both by the delta method). Volume incidents keep
// the usual share, so the share detector is measured on share incidents alone.
//
// Each post arrives at a uniformly random minute of its hour; quarterCounts holds the posts of each quarter hour, so
// a replay can evaluate an open window as an evaluator after each ingest would.
// The span is `warmupDays` before `start` (a baseline to begin with) plus `days` scored days.

export interface GeneratorSettings {
  seed: number;
  postsPerHour: number;
  /** Scored days. */
  days: number;
  /** Days generated before the scored ones, so the first scored window has a baseline. */
  warmupDays: number;
  /** First scored hour (UTC). */
  start: number;
  incidentsPerSize: number;
  sizes: readonly number[];
}

export const GENERATOR_DEFAULTS: Readonly<Omit<GeneratorSettings, 'seed' | 'postsPerHour'>> = Object.freeze({
  days: 365,
  warmupDays: 14,
  start: Date.UTC(2025, 0, 1),
  incidentsPerSize: 12,
  sizes: [3, 5, 8, 12],
});

export interface Incident {
  /** Hour index into the series. */
  startHour: number;
  hours: number;
  /** In σ of the hour it starts in. */
  sizeSigma: number;
}

export interface SyntheticYear {
  settings: GeneratorSettings;
  /** Start of hour 0 (the first warm-up hour), ms. */
  start: number;
  hours: number;
  firstScoredHour: number;
  counts: Int32Array;
  negatives: Int32Array;
  /** Posts and negative posts of quarter q of hour h at [4h + q]. */
  quarterCounts: Int32Array;
  quarterNegatives: Int32Array;
  /** Each hour's expected count and its σ without the incidents (what an oracle baseline would know). */
  mean: Float64Array;
  sigma: Float64Array;
  incidents: Incident[];
  shareIncidents: Incident[];
}

export const HOUR_MS = 3_600_000;
const WEEKDAY = normalized([1.2, 1.1, 1.05, 1.0, 0.95, 0.75, 0.7]); // Monday first
const WORKDAY_CURVE = [0.35, 0.25, 0.2, 0.18, 0.2, 0.3, 0.55, 0.9, 1.3, 1.6, 1.7, 1.65, 1.5, 1.55, 1.6, 1.55, 1.45, 1.3, 1.2, 1.15, 1.15, 1.05, 0.8, 0.55];
const WORKDAY = normalized(WORKDAY_CURVE);
const WEEKEND = normalized(WORKDAY_CURVE.map((_, h) => 0.6 * WORKDAY_CURVE[(h + 22) % 24]! + 0.4));
const HOLIDAYS = new Map<string, number>([
  ['01-01', 0.5], ['05-01', 0.5], ['12-24', 0.5], ['12-25', 0.5], ['12-26', 0.5], ['12-31', 0.5],
  ['12-27', 0.7], ['12-28', 0.7], ['12-29', 0.7], ['12-30', 0.7],
  ['08-11', 0.8], ['08-12', 0.8], ['08-13', 0.8], ['08-14', 0.8], ['08-15', 0.8], ['08-16', 0.8], ['08-17', 0.8],
]);
const EASTER_MONDAYS = new Set(['2024-04-01', '2025-04-21', '2026-04-06']);
const LEVEL_SD = 0.15;
const LEVEL_CORRELATION = Math.exp(-1 / 24);
const BURST_VARIANCE = 0.02;
const BASE_SHARE = 0.2;
const SHARE_DRIFT_SD = 0.3;
const SHARE_CORRELATION = Math.exp(-1 / 48);
const MAX_SHARE = 0.95;
const MIN_INCIDENT_GAP_HOURS = 72;
const MAX_INCIDENT_HOURS = 6;

export function generateYear(settings: Partial<GeneratorSettings> & Pick<GeneratorSettings, 'seed' | 'postsPerHour'>): SyntheticYear {
  const s: GeneratorSettings = { ...GENERATOR_DEFAULTS, ...settings };
  const rng = new Random(s.seed * 7919 + Math.round(s.postsPerHour * 1000));
  const firstScoredHour = s.warmupDays * 24;
  const hours = (s.warmupDays + s.days) * 24;
  const start = s.start - firstScoredHour * HOUR_MS;

  const mean = new Float64Array(hours);
  const sigma = new Float64Array(hours);
  const shareSigma = new Float64Array(hours);
  const levelVariance = (1 + BURST_VARIANCE) * Math.exp(LEVEL_SD ** 2) - 1;
  const tau = BASE_SHARE * (1 - BASE_SHARE) * SHARE_DRIFT_SD;
  for (let h = 0; h < hours; h++) {
    const at = new Date(start + h * HOUR_MS);
    const weekday = (at.getUTCDay() + 6) % 7;
    const curve = weekday >= 5 ? WEEKEND : WORKDAY;
    const trend = 0.85 + (0.3 * h) / hours;
    const m = s.postsPerHour * trend * WEEKDAY[weekday]! * curve[at.getUTCHours()]! * holiday(at);
    mean[h] = m;
    sigma[h] = Math.sqrt(m + m * m * levelVariance);
    shareSigma[h] = Math.sqrt((BASE_SHARE * (1 - BASE_SHARE)) / Math.max(m, 1e-9) + tau * tau);
  }

  const incidents = schedule(rng, s, firstScoredHour, hours);
  const shareIncidents = schedule(rng, s, firstScoredHour, hours);
  const extra = new Float64Array(hours);
  for (const inc of incidents) for (let h = inc.startHour; h < inc.startHour + inc.hours; h++) extra[h] = inc.sizeSigma * sigma[h]!;
  const shareOverride = new Float64Array(hours).fill(-1);
  for (const inc of shareIncidents) {
    for (let h = inc.startHour; h < inc.startHour + inc.hours; h++) shareOverride[h] = Math.min(MAX_SHARE, BASE_SHARE + inc.sizeSigma * shareSigma[h]!);
  }

  const counts = new Int32Array(hours);
  const negatives = new Int32Array(hours);
  const quarterCounts = new Int32Array(hours * 4);
  const quarterNegatives = new Int32Array(hours * 4);
  let level = rng.normal() * LEVEL_SD;
  let drift = rng.normal() * SHARE_DRIFT_SD;
  const baseLogit = Math.log(BASE_SHARE / (1 - BASE_SHARE));
  for (let h = 0; h < hours; h++) {
    level = LEVEL_CORRELATION * level + Math.sqrt(1 - LEVEL_CORRELATION ** 2) * LEVEL_SD * rng.normal();
    drift = SHARE_CORRELATION * drift + Math.sqrt(1 - SHARE_CORRELATION ** 2) * SHARE_DRIFT_SD * rng.normal();
    const burst = rng.gamma(1 / BURST_VARIANCE) * BURST_VARIANCE;
    const n = rng.poisson(mean[h]! * Math.exp(level - LEVEL_SD ** 2 / 2) * burst) + (extra[h]! > 0 ? rng.poisson(extra[h]!) : 0);
    const share = shareOverride[h]! >= 0 ? shareOverride[h]! : 1 / (1 + Math.exp(-(baseLogit + drift)));
    for (let i = 0; i < n; i++) {
      const q = 4 * h + Math.floor(rng.next() * 4);
      quarterCounts[q]! += 1;
      if (rng.next() < share) quarterNegatives[q]! += 1;
    }
    counts[h] = n;
    for (let q = 0; q < 4; q++) negatives[h]! += quarterNegatives[4 * h + q]!;
  }
  return { settings: s, start, hours, firstScoredHour, counts, negatives, quarterCounts, quarterNegatives, mean, sigma, incidents, shareIncidents };
}

function holiday(at: Date): number {
  const iso = at.toISOString().slice(0, 10);
  if (EASTER_MONDAYS.has(iso)) return 0.5;
  return HOLIDAYS.get(iso.slice(5)) ?? 1;
}

/** incidentsPerSize incidents of each size, at random hours of the scored span, at least 72 h apart. */
function schedule(rng: Random, s: GeneratorSettings, first: number, hours: number): Incident[] {
  const out: Incident[] = [];
  const sizes = s.sizes.flatMap((size) => Array.from({ length: s.incidentsPerSize }, () => size));
  for (const sizeSigma of sizes) {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const length = 1 + Math.floor(rng.next() * MAX_INCIDENT_HOURS);
      const startHour = first + Math.floor(rng.next() * (hours - first - MAX_INCIDENT_HOURS));
      const clear = out.every((o) => startHour >= o.startHour + o.hours + MIN_INCIDENT_GAP_HOURS || o.startHour >= startHour + length + MIN_INCIDENT_GAP_HOURS);
      if (clear) {
        out.push({ startHour, hours: length, sizeSigma });
        break;
      }
    }
  }
  return out.sort((a, b) => a.startHour - b.startHour);
}

function normalized(xs: number[]): number[] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.map((x) => x / m);
}

/** mulberry32 with the samplers the generator needs. */
class Random {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang (shape >= 1). */
  gamma(shape: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      if (Math.log(1 - this.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** Poisson: inversion for small means, Hörmann's transformed rejection (PTRS) above 10. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean < 10) {
      const limit = Math.exp(-mean);
      let k = 0;
      let p = this.next();
      while (p > limit) {
        p *= this.next();
        k++;
      }
      return k;
    }
    const slam = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - logGamma(k + 1)) return k;
    }
  }
}

// Lanczos approximation (g = 7, 9 terms), good to about 15 digits for the arguments the sampler needs.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
function logGamma(x: number): number {
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
