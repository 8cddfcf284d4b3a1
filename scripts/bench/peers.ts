// The peer harnesses (peer-bullmq, peer-crawlee), run beside ours in the same run for the ratios.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { log } from './params.ts';
import { PEERS_DIR } from './paths.ts';
import { round } from './stats.ts';

export interface PeerRun {
  peer: string;
  ok: boolean;
  /** Why there are no figures, when there are none. */
  missing?: string;
  command?: string;
  env?: Record<string, string>;
  results_path?: string;
  wall_s?: number;
  rc?: number | null;
  stderr_tail?: string;
}

/**
 * Runs a peer harness (`bash run.sh` in $BENCH_PEERS_DIR/<peer>, outside the repo; it runs `npm ci` there on
 * first use) with `env` knobs, under a time limit, and returns where its results went.
 */
export async function runPeer(peer: string, env: Record<string, string>, timeoutS: number): Promise<PeerRun> {
  if (PEERS_DIR === null) {
    const missing = `BENCH_PEERS_DIR is not set (the folder holding ${peer}/run.sh), so the ${peer} figures are missing`;
    log(`peer figures missing: ${missing}`);
    return { peer, ok: false, missing };
  }
  const dir = join(PEERS_DIR, peer);
  if (!existsSync(join(dir, 'run.sh'))) {
    const missing = `${dir}/run.sh does not exist, so the ${peer} figures are missing`;
    log(`peer figures missing: ${missing}`);
    return { peer, ok: false, missing };
  }
  const command = `timeout --kill-after=10 ${timeoutS} bash run.sh`;
  log(`running ${peer}: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} ${command}`);
  const started = Date.now();
  const child = spawn('timeout', ['--kill-after=10', String(timeoutS), 'bash', 'run.sh'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const rc = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wall_s = round((Date.now() - started) / 1000, 1);
  const path = /^results: (\S+\.json)/m.exec(out)?.[1];
  const results_path = path ? join(dir, path) : undefined;
  const run: PeerRun = { peer, ok: !!results_path && existsSync(results_path), command, env, results_path, wall_s, rc, stderr_tail: err.slice(-1500) };
  if (!run.ok) {
    run.missing = `${peer} run.sh ended with rc=${rc} and no results file${rc === 124 ? ` (timed out after ${timeoutS} s)` : ''}: ${err.slice(-400)}`;
    log(`peer figures missing: ${run.missing}`);
  } else if (rc !== 0) {
    log(`${peer}: run.sh reported failed checks (rc=${rc}); its results are kept with their "errors"`);
  }
  return run;
}
