// Charts drawn on the server as SVG: a y axis with round ticks, a label every few buckets, a bar only where a
// bucket has data (an empty day is a gap, not a zero-height bar that reads as "measured nothing"), a <title> on
// every bar for a tooltip, and the same figures as a table for screen readers and for copying.
import { count } from './format.ts';

export interface ChartBucket {
  /** The bucket's start, YYYY-MM-DD: the key, the table's first column. */
  day: string;
  values: Record<string, number>;
}

export interface ChartSeries {
  key: string;
  label: string;
}

const WIDTH = 720;
const HEIGHT = 220;
const LEFT = 72;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 32;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;

/** A coordinate to a tenth of a unit: finer is invisible at any size the chart is drawn, and costs bytes. */
const px = (value: number) => Math.round(value * 10) / 10;

/** Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5 times a power of ten, about `wanted` of them. */
export function ticks(max: number, wanted = 4): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / wanted;
  const power = 10 ** Math.floor(Math.log10(raw));
  // 2.5 only above the ones: a count axis with a tick at 2.5 posts reads oddly.
  const multiples = power === 1 ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
  const step = multiples.map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const top = Math.ceil(max / step) * step;
  const values: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(Number(v.toPrecision(12)));
  return values;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function shortDay(day: string): string {
  const [, month, date] = day.split('-');
  return `${MONTHS[Number(month) - 1] ?? month} ${Number(date)}`;
}

function XLabels({ buckets, band }: { buckets: ChartBucket[]; band: number }) {
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  return (
    <g class="x-axis">
      {buckets.map((bucket, i) =>
        i % every === 0 ? (
          <text x={px(LEFT + band * i + band / 2)} y={HEIGHT - 8} text-anchor="middle">{shortDay(bucket.day)}</text>
        ) : null,
      )}
    </g>
  );
}

function YAxis({ values, top, format }: { values: number[]; top: number; format: (v: number) => string }) {
  return (
    <g class="y-axis">
      {values.map((value) => {
        const y = TOP + PLOT_H - (value / top) * PLOT_H;
        return (
          <g>
            <line x1={LEFT} x2={WIDTH - RIGHT} y1={px(y)} y2={px(y)} class="grid" />
            <text x={LEFT - 6} y={px(y + 4)} text-anchor="end">{format(value)}</text>
          </g>
        );
      })}
    </g>
  );
}

/** Bars stacked by series; with `share`, each bar is its series' share of the bucket's total (0-100 %). */
export function StackedBars({ id, label, buckets, series, share = false }: { id: string; label: string; buckets: ChartBucket[]; series: ChartSeries[]; share?: boolean }) {
  const totals = buckets.map((bucket) => series.reduce((sum, s) => sum + (bucket.values[s.key] ?? 0), 0));
  const axis = share ? [0, 25, 50, 75, 100] : ticks(Math.max(0, ...totals));
  const top = axis.at(-1)!;
  const band = PLOT_W / Math.max(1, buckets.length);
  const barWidth = Math.max(1, band * 0.8);
  const withData = totals.filter((total) => total > 0).length;
  const summary = `${label}: ${withData} of ${buckets.length} days have posts${share ? '' : `, ${count(totals.reduce((a, b) => a + b, 0))} in all`}`;
  return (
    <figure class="chart" id={id}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        <YAxis values={axis} top={top} format={(v) => (share ? `${v} %` : count(v))} />
        <g class="bars">
          {buckets.map((bucket, i) => {
            const total = totals[i]!;
            if (total === 0) return null;
            let y = TOP + PLOT_H;
            const parts = series.map((s, k) => {
              const value = bucket.values[s.key] ?? 0;
              if (value === 0) return null;
              const h = ((share ? (value / total) * 100 : value) / top) * PLOT_H;
              y -= h;
              return <rect class={`s${k % 10}`} x={px(LEFT + band * i + (band - barWidth) / 2)} y={px(y)} width={px(barWidth)} height={px(h)} />;
            });
            const detail = series.filter((s) => bucket.values[s.key]).map((s) => `${s.label} ${share ? `${Math.round(((bucket.values[s.key] ?? 0) / total) * 100)} %` : count(bucket.values[s.key] ?? 0)}`);
            return (
              <g class="bar" data-day={bucket.day}>
                <title>{`${shortDay(bucket.day)}: ${count(total)} posts (${detail.join(', ')})`}</title>
                {parts}
              </g>
            );
          })}
        </g>
        <XLabels buckets={buckets} band={band} />
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map((s, k) => (
            <li><span class={`swatch s${k % 10}`} aria-hidden="true"></span>{s.label}</li>
          ))}
        </ul>
      </figcaption>
      <details class="data">
        <summary>{`${label} as a table`}</summary>
        <table>
          <caption>{label}</caption>
          <thead>
            <tr><th scope="col">Day</th>{series.map((s) => <th scope="col">{s.label}</th>)}<th scope="col">All</th></tr>
          </thead>
          <tbody>
            {buckets.map((bucket, i) => (
              <tr>
                <th scope="row">{bucket.day}</th>
                {series.map((s) => <td>{share ? shareText(bucket.values[s.key] ?? 0, totals[i]!) : count(bucket.values[s.key] ?? 0)}</td>)}
                <td>{count(totals[i]!)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

function shareText(value: number, total: number): string {
  return total === 0 ? '—' : `${Math.round((value / total) * 100)} %`;
}

/** A line through the buckets that have a value; a bucket without one breaks the line. */
export function GappedLine({ id, label, buckets, unit }: { id: string; label: string; buckets: { day: string; value: number | null; n: number }[]; unit: string }) {
  const values = buckets.map((b) => b.value).filter((v): v is number => v !== null);
  const axis = ticks(Math.max(0, ...values), 4);
  const top = axis.at(-1)!;
  const band = PLOT_W / Math.max(1, buckets.length);
  const point = (i: number, value: number) => [LEFT + band * i + band / 2, TOP + PLOT_H - (value / top) * PLOT_H] as const;
  let path = '';
  let drawing = false;
  buckets.forEach((bucket, i) => {
    if (bucket.value === null) {
      drawing = false;
      return;
    }
    const [x, y] = point(i, bucket.value);
    path += `${drawing ? 'L' : 'M'}${px(x)} ${px(y)} `;
    drawing = true;
  });
  const summary = `${label}: ${values.length} of ${buckets.length} days have a value`;
  return (
    <figure class="chart" id={id}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="xMidYMid meet">
        <YAxis values={axis} top={top} format={(v) => count(v)} />
        {path ? <path d={path.trim()} class="line" /> : null}
        <g class="points">
          {buckets.map((bucket, i) => {
            if (bucket.value === null) return null;
            const [x, y] = point(i, bucket.value);
            return (
              <circle cx={px(x)} cy={px(y)} r={3} class="point" data-day={bucket.day}>
                <title>{`${shortDay(bucket.day)}: ${bucket.value.toFixed(2)} ${unit} over ${bucket.n} posts`}</title>
              </circle>
            );
          })}
        </g>
        <XLabels buckets={buckets.map((b) => ({ day: b.day, values: {} }))} band={band} />
      </svg>
      <details class="data">
        <summary>{`${label} as a table`}</summary>
        <table>
          <caption>{label}</caption>
          <thead><tr><th scope="col">Day</th><th scope="col">{unit}</th><th scope="col">Posts rated</th></tr></thead>
          <tbody>
            {buckets.map((bucket) => (
              <tr><th scope="row">{bucket.day}</th><td>{bucket.value === null ? '—' : bucket.value.toFixed(2)}</td><td>{count(bucket.n)}</td></tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
