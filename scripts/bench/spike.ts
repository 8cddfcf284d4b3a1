// npm run bench:spike — the spike detectors of lib/alerts/ replayed over synthetic years of hourly posts
// (spike-data.ts documents the generator) at three rates, each for several seeds: the default detector, the plain
// mean + 3σ over 14 days (Huginn's rule) and a reference that knows the true mean and σ of every hour, all with
// the same cool-down and the same checks (after every quarter hour, the last one the complete window); then the
// negative-share detectors on share incidents. Pure computation: no database, no services.
//   tsx scripts/bench/spike.ts [--quick] [--seeds 1,2,3,4,5] [--rates 0.5,5,50] [--days 365] [--cool-down 360]
//                              [--baseline-days 14] [--out-dir D]
// Prints the tables and the targets, writes bench-results/spike-<UTC time>.json.
import { fail, intList, intValue, log, parseParams, printTable, round, writeResult } from './common.ts';
import { DEFAULT_COOL_DOWN_MINUTES } from '../../lib/alerts/cool-down.ts';
import { SHARE_SPIKE_DEFAULTS } from '../../lib/alerts/share.ts';
import { VOLUME_SPIKE_DEFAULTS } from '../../lib/alerts/spike.ts';
import { GENERATOR_DEFAULTS, generateYear } from './spike-data.ts';
import { type ReplayDetector, type Score, replay, score, shareDetectors, volumeDetectors } from './spike-replay.ts';

const { common, values } = parseParams({ seeds: { type: 'string' }, rates: { type: 'string' }, days: { type: 'string' }, 'cool-down': { type: 'string' }, 'baseline-days': { type: 'string' } }, { reps: 1 });
const P = {
  quick: common.quick,
  seeds: intList(values, 'seeds', common.quick ? [1] : [1, 2, 3, 4, 5], 0, 1_000_000),
  rates: rateList(values.rates),
  days: intValue(values, 'days', common.quick ? 60 : GENERATOR_DEFAULTS.days, 28, 3650),
  coolDownMinutes: intValue(values, 'cool-down', DEFAULT_COOL_DOWN_MINUTES, 0, 10_080),
  /** The default detector's baselineDays, to see what a longer history buys (the plain rule keeps 14). */
  baselineDays: intValue(values, 'baseline-days', VOLUME_SPIKE_DEFAULTS.baselineDays, 7, 56),
  outDir: common.outDir,
};
const RATE_NAMES: Record<number, string> = { 0.5: 'quiet', 5: 'typical', 50: 'busy' };
const started = new Date();
const t0 = performance.now();

interface Run {
  kind: 'volume' | 'share';
  rate: number;
  seed: number;
  detector: string;
  score: Score;
  /** Mean posts a 5σ incident adds to its first window at this rate (the incidents of this seed). */
  excess5: number;
}
const runs: Run[] = [];
for (const rate of P.rates) {
  for (const seed of P.seeds) {
    // Fewer incidents in a short --quick year, so they still lie 72 h apart.
    const year = generateYear({ seed, postsPerHour: rate, days: P.days, incidentsPerSize: Math.max(1, Math.round((12 * P.days) / 365)) });
    const five = year.incidents.filter((i) => i.sizeSigma === 5);
    const excess5 = five.reduce((sum, i) => sum + 5 * year.sigma[i.startHour]!, 0) / Math.max(1, five.length);
    const play = (detectors: ReplayDetector[], kind: Run['kind']) => {
      for (const d of detectors) runs.push({ kind, rate, seed, detector: d.name, score: score(year, replay(year, d, P.coolDownMinutes), kind === 'volume' ? year.incidents : year.shareIncidents), excess5 });
    };
    play(volumeDetectors(year, P.baselineDays === VOLUME_SPIKE_DEFAULTS.baselineDays ? {} : { baselineDays: P.baselineDays }), 'volume');
    play(shareDetectors(year), 'share');
    log(`spike: rate ${rate}/h seed ${seed} replayed (${round((performance.now() - t0) / 1000, 1)} s)`);
  }
}

interface Summary {
  kind: Run['kind'];
  rate: number;
  detector: string;
  seeds: number;
  bySize: Record<string, { total: number; found: number; firstWindow: number; whileOpen: number }>;
  /** Incidents of 5σ and more: all seeds together, and the worst seed's share in the first window. */
  atLeast5: { total: number; found: number; firstWindow: number; worstSeedFirstWindowPct: number };
  medianDelayWindows: number | null;
  /** Of the incidents found in their first window, how many fired before that window ended. */
  whileOpenPct: number | null;
  falseAlertsPerMonth: { median: number; worst: number; runs: number[] };
  falseAlertsTotal: number;
  excess5Posts: number;
}

const summaries: Summary[] = [];
for (const kind of ['volume', 'share'] as const) {
  for (const rate of P.rates) {
    for (const detector of [...new Set(runs.filter((r) => r.kind === kind).map((r) => r.detector))]) {
      const mine = runs.filter((r) => r.kind === kind && r.rate === rate && r.detector === detector);
      const bySize: Summary['bySize'] = {};
      for (const r of mine) {
        for (const [size, s] of Object.entries(r.score.bySize)) {
          const t = (bySize[size] ??= { total: 0, found: 0, firstWindow: 0, whileOpen: 0 });
          t.total += s.total;
          t.found += s.found;
          t.firstWindow += s.firstWindow;
          t.whileOpen += s.whileOpen;
        }
      }
      const big = Object.entries(bySize).filter(([size]) => Number(size) >= 5).map(([, s]) => s);
      const perSeedFirst = mine.map((r) => {
        const sizes = Object.entries(r.score.bySize).filter(([size]) => Number(size) >= 5).map(([, s]) => s);
        const total = sizes.reduce((a, s) => a + s.total, 0);
        return total ? (100 * sizes.reduce((a, s) => a + s.firstWindow, 0)) / total : 100;
      });
      const delays = mine.flatMap((r) => r.score.delays.filter((d) => d.sizeSigma >= 5).map((d) => d.windows));
      const firstWindow = Object.values(bySize).reduce((a, s) => a + s.firstWindow, 0);
      const fa = mine.map((r) => r.score.falseAlertsPerMonth);
      summaries.push({
        kind,
        rate,
        detector,
        seeds: mine.length,
        bySize,
        atLeast5: {
          total: big.reduce((a, s) => a + s.total, 0),
          found: big.reduce((a, s) => a + s.found, 0),
          firstWindow: big.reduce((a, s) => a + s.firstWindow, 0),
          worstSeedFirstWindowPct: round(Math.min(...perSeedFirst), 1),
        },
        medianDelayWindows: delays.length ? median(delays) : null,
        whileOpenPct: firstWindow ? round((100 * Object.values(bySize).reduce((a, s) => a + s.whileOpen, 0)) / firstWindow, 0) : null,
        falseAlertsPerMonth: { median: round(median(fa), 2), worst: round(Math.max(...fa), 2), runs: fa.map((x) => round(x, 2)) },
        falseAlertsTotal: mine.reduce((a, r) => a + r.score.falseAlerts, 0),
        excess5Posts: round(median(mine.map((r) => r.excess5)), 1),
      });
    }
  }
}

const sizeCell = (s: Summary, size: number) => {
  const x = s.bySize[size];
  return x ? `${x.found}/${x.total} (${x.firstWindow})` : 'n/a';
};
const rateName = (rate: number) => `${RATE_NAMES[rate] ?? 'rate'} ${rate}/h`;
const tableOf = (kind: Run['kind']) =>
  printTable(
    ['rate', 'detector', '3σ found (1st window)', '5σ', '8σ', '12σ', '≥5σ in 1st window, all seeds (worst seed)', 'median delay ≥5σ (windows)', 'fired before the window ended', 'false alerts/month median (worst)'],
    summaries
      .filter((s) => s.kind === kind)
      .map((s) => [
        rateName(s.rate),
        s.detector,
        sizeCell(s, 3),
        sizeCell(s, 5),
        sizeCell(s, 8),
        sizeCell(s, 12),
        `${s.atLeast5.firstWindow}/${s.atLeast5.total} = ${pct(s.atLeast5.firstWindow, s.atLeast5.total)} (${s.atLeast5.worstSeedFirstWindowPct}%)`,
        s.medianDelayWindows ?? 'n/a',
        s.whileOpenPct === null ? 'n/a' : `${s.whileOpenPct}%`,
        `${s.falseAlertsPerMonth.median} (${s.falseAlertsPerMonth.worst})`,
      ]),
  );

const seedList = P.seeds.join(',');
process.stdout.write(
  `\nVolume spikes: ${P.days} scored days × seeds ${seedList}, checked every 15 min, cool-down ${P.coolDownMinutes} min; ` +
    `incidents found/total (in their first window); default detector ${JSON.stringify(VOLUME_SPIKE_DEFAULTS)}\n\n`,
);
tableOf('volume');
process.stdout.write(`\nNegative-share spikes on share incidents (volume unchanged); default ${JSON.stringify(SHARE_SPIKE_DEFAULTS)}\n\n`);
tableOf('share');

interface Target {
  rate: number;
  target: string;
  result: string;
  met: boolean;
  why?: string;
}
const targets: Target[] = [];
for (const rate of P.rates) {
  const ours = summaries.find((s) => s.kind === 'volume' && s.rate === rate && s.detector.startsWith('seasonal'))!;
  const plain = summaries.find((s) => s.kind === 'volume' && s.rate === rate && s.detector.startsWith('plain'))!;
  const reference = summaries.find((s) => s.kind === 'volume' && s.rate === rate && s.detector.startsWith('reference'))!;
  const a = ours.atLeast5;
  const allFirst = a.firstWindow === a.total;
  targets.push({
    rate,
    target: 'every ≥5σ incident found in its first window',
    result: `${a.firstWindow}/${a.total} (${pct(a.firstWindow, a.total)}); reference ${reference.atLeast5.firstWindow}/${reference.atLeast5.total}`,
    met: allFirst,
    why: allFirst
      ? undefined
      : `a 5σ incident adds ${ours.excess5Posts} posts on average here, and those arrive at random too; even the reference, which knows each hour's true ` +
        `mean and σ, finds ${pct(reference.atLeast5.firstWindow, reference.atLeast5.total)} in their first window at the same false-alarm level (3σ), ` +
        `and a 14-day baseline knows an hour of the week from two samples`,
  });
  const worst = ours.falseAlertsPerMonth.worst;
  targets.push({ rate, target: 'fewer than 2 false alerts a month', result: `median ${ours.falseAlertsPerMonth.median}, worst seed ${worst}`, met: worst < 2 });
  const fewer = ours.falseAlertsTotal < plain.falseAlertsTotal;
  const foundOurs = Object.values(ours.bySize).reduce((x, s) => x + s.found, 0);
  const foundPlain = Object.values(plain.bySize).reduce((x, s) => x + s.found, 0);
  targets.push({
    rate,
    target: 'fewer false alerts than the plain rule, without missing more incidents',
    result: `false alerts ${ours.falseAlertsTotal} vs ${plain.falseAlertsTotal}; incidents found ${foundOurs} vs ${foundPlain} (${a.found} vs ${plain.atLeast5.found} of ≥5σ)`,
    met: fewer && foundOurs >= foundPlain,
    why:
      fewer && foundOurs < foundPlain
        ? `the plain rule finds ${foundPlain - foundOurs} more of the ${Object.values(ours.bySize).reduce((x, s) => x + s.total, 0)} incidents by firing on a few posts in any ` +
          `hour, which costs it ${plain.falseAlertsPerMonth.median} false alerts a month; staying under 2 a month takes more posts than most small incidents ` +
          `here add (the reference, with the true mean and σ, finds ${Object.values(reference.bySize).reduce((x, s) => x + s.found, 0)})`
        : undefined,
  });
}
process.stdout.write('\nTargets (default detector, all seeds)\n\n');
printTable(['rate', 'target', 'result', 'met?'], targets.map((t) => [rateName(t.rate), t.target, t.result, t.met ? 'yes' : 'NO']));
for (const t of targets.filter((x) => x.why)) process.stdout.write(`\n${rateName(t.rate)}, missed "${t.target}": ${t.why}.`);
process.stdout.write('\n');

const path = writeResult(P.outDir, 'spike', {
  bench: 'spike',
  started_at: started.toISOString(),
  wall_s: round((performance.now() - t0) / 1000, 1),
  settings: { ...P, generator: GENERATOR_DEFAULTS, volume_defaults: VOLUME_SPIKE_DEFAULTS, share_defaults: SHARE_SPIKE_DEFAULTS },
  summary: summaries,
  targets,
  runs: runs.map((r) => ({ kind: r.kind, rate: r.rate, seed: r.seed, detector: r.detector, ...r.score })),
  errors: [],
});
process.stdout.write(`\nresults: ${path}\n`);

function rateList(raw: unknown): number[] {
  if (raw === undefined) return [0.5, 5, 50];
  const list = String(raw).split(',').map(Number);
  if (list.some((x) => !(x > 0 && x <= 100_000))) fail(`--rates must be a comma list of posts per hour above 0, got "${String(raw)}"`);
  return list;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function pct(part: number, whole: number): string {
  return whole ? `${Math.round((100 * part) / whole)}%` : 'n/a';
}
