// Every ```sh block of README.md and docs/ runs as a reader would paste it: in bash, against a real API and worker
// on this file's own namespace, every source answered by its recorded upstream, with $API, $TOKEN and
// $READ_TOKEN set. A block that needs the internet or the Docker stack says so in the line before it
// (<!-- example: skip (why) -->) and is reported as skipped, with that reason.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, type Spawned, spawnEntry, stopProcess } from '../scripts/harness/processes.ts';
import { freePort } from './helpers/private-redis.ts';
import { type RecordedUpstreams, startRecordedUpstreams } from './helpers/recorded-upstreams.ts';
import { type TestServices, startServices } from './helpers/services.ts';

export interface Example {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** Why it is not run, from the marker before it; null when it runs. */
  skip: string | null;
}

const SKIP = /^<!--\s*example:\s*skip\s*\((.+)\)\s*-->\s*$/;

/** The fenced blocks of a Markdown file, with the skip marker on the line before each (blank lines between allowed). */
export function fencedBlocks(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const blocks: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const indent = lines[i]!.indexOf('`');
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    let marker = start - 1;
    while (marker >= 0 && lines[marker]!.trim() === '') marker--;
    const skip = marker >= 0 ? (SKIP.exec(lines[marker]!.trim())?.[1] ?? null) : null;
    blocks.push({ file, line: start + 1, lang: open[1]!, code: body.join('\n'), skip });
  }
  return blocks;
}

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const ALL = DOCS.flatMap((file) => fencedBlocks(file, readFileSync(join(ROOT, file), 'utf8')));
const SH = ALL.filter((block) => block.lang === 'sh');

// An error answer starts with its "error" member (a job carries its own error further down, after its id).
const ERROR_BODY = /^\s*\{\s*"error"\s*:\s*\{\s*"code"/m;
// An example shows a job's status to show that it worked: it must not show one that did not.
const JOB_GAVE_UP = /"status"\s*:\s*"(failed|dead)"/;

describe('the examples of README.md and docs/', () => {
  const TOKEN = 'doc-examples-admin-token-0123456789';
  const READ_TOKEN = 'doc-examples-read-token-0123456789';
  let services: TestServices;
  let upstreams: RecordedUpstreams;
  let backupDir: string;
  let api: Spawned;
  let worker: Spawned;
  let base: string;

  before(async () => {
    const tools = ['bash', 'curl', 'jq'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
    assert.deepEqual(tools, [], `the examples are run with bash, curl and jq: install what is missing (Debian/Ubuntu: apt-get install ${tools.join(' ')})`);
    services = await startServices('doc_examples');
    upstreams = await startRecordedUpstreams();
    backupDir = mkdtempSync(join(tmpdir(), 'vibe-doc-examples-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...services.env,
      ...upstreams.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      API_TOKEN: TOKEN,
      API_READ_TOKEN: READ_TOKEN,
      BACKUP_DIR: backupDir,
      WORKER_CONCURRENCY: '4',
      JOB_RETRY_BASE_MS: '200',
      LOG_LEVEL: 'info',
    };
    api = spawnEntry('api.ts', env);
    worker = spawnEntry('worker.ts', env);
    await Promise.all([api.waitForEvent('api_listening'), worker.waitForEvent('worker_started')]);
  });

  after(async () => {
    await Promise.all([api, worker].filter(Boolean).map((spawned) => stopProcess(spawned)));
    await upstreams?.close();
    await services?.close();
    if (backupDir) rmSync(backupDir, { recursive: true, force: true });
  });

  test('every curl example is in a sh block, against $API, with no placeholder left to fill in', () => {
    const wrong = ALL.filter((block) => /(^|[\s|(])curl\s/m.test(block.code) && block.lang !== 'sh' && block.lang !== 'powershell').map((block) => `${block.file}:${block.line} (${block.lang || 'no language'})`);
    assert.deepEqual(wrong, [], 'curl examples belong in ```sh blocks');
    const unfit = SH.filter((block) => !block.skip).flatMap((block) =>
      block.code.split('\n').filter((line) => /(^|[\s|(])curl\s/.test(line.replace(/#.*$/, ''))).flatMap((line) => {
        const problems = [];
        if (!line.includes('$API')) problems.push('does not use $API');
        if (/…|<[a-z_-]+>/i.test(line.replace(/#.*$/, ''))) problems.push('has a placeholder');
        return problems.map((problem) => `${block.file}:${block.line}: ${problem}: ${line.trim()}`);
      }),
    );
    assert.deepEqual(unfit, []);
  });

  test('the documentation has examples to run', () => {
    assert.ok(SH.filter((block) => !block.skip).length >= 10, `only ${SH.filter((block) => !block.skip).length} runnable sh blocks found`);
  });

  for (const block of SH) {
    const name = `${block.file}:${block.line} runs and answers no error`;
    if (block.skip) {
      test(name, { skip: block.skip }, () => {});
      continue;
    }
    test(name, async () => {
      const run = await runBash(block.code, {
        API: base,
        TOKEN,
        READ_TOKEN,
        REDIS_PREFIX: services.config.redisPrefix,
        REDIS_URL: services.config.redisUrl,
      });
      const shown = `\n--- ${block.file}:${block.line}\n${block.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
      assert.equal(run.code, 0, `exited ${run.code}${shown}`);
      assert.doesNotMatch(run.stdout, ERROR_BODY, `answered an error${shown}`);
      assert.doesNotMatch(run.stdout, JOB_GAVE_UP, `shows a job that did not complete${shown}`);
    });
  }
});

function runBash(code: string, env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ code: exitCode ?? (signal ? 128 : null), stdout, stderr: signal ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}
