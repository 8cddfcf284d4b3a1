// Summaries of `node --cpu-prof` profiles, for the bench JSON.
import { ROOT, readJson, round } from './common.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time of a `node --cpu-prof` profile by package (node_modules/<pkg>), our files, node internals, GC. */
export function summarizeCpuProfile(file: string): { total_ms: number; by_bucket: { bucket: string; ms: number; pct: number }[]; top_functions: { fn: string; ms: number; pct: number }[] } {
  const profile = readJson<{ nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }>(file);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const bucketMs = new Map<string, number>();
  const fnMs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') return;
    total += us;
    const bucket = bucketOf(frame.url, frame.functionName);
    bucketMs.set(bucket, (bucketMs.get(bucket) ?? 0) + us);
    const fn = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    fnMs.set(fn, (fnMs.get(fn) ?? 0) + us);
  });
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => ({ k, ms: round(us / 1000, 1), pct: round((us / total) * 100, 1) }));
  return {
    total_ms: round(total / 1000, 1),
    by_bucket: rank(bucketMs, 20).map(({ k, ms, pct }) => ({ bucket: k, ms, pct })),
    top_functions: rank(fnMs, 25).map(({ k, ms, pct }) => ({ fn: k, ms, pct })),
  };
}

function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `(native) ${fn}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const ours = /\/(lib\/[^/]+)\//.exec(url)?.[1] ?? /\/(lib\/[^/]+)\.[jt]s$/.exec(url)?.[1];
  return ours ? `ours: ${ours}` : shortUrl(url);
}

const shortUrl = (url: string): string => url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/.*node_modules\//, '');
