// Email destinations over a real SMTP conversation: a server on loopback that offers STARTTLS with a certificate
// made for the test, asks for AUTH, answers 451 once (retried) or 550 (dead-lettered), and keeps what it was sent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TLSSocket, createSecureContext } from 'node:tls';
import type { Hono } from 'hono';
import { createApp } from '../lib/api/app.ts';
import { silentLogger } from '../lib/log.ts';
import type { Job } from '../lib/model/job.ts';
import { loadSourceRegistry } from '../lib/sources/registry.ts';
import { type Pipeline, startPipeline } from './helpers/pipeline.ts';
import { waitForJob } from './helpers/worker.ts';

interface Session {
  commands: { line: string; secure: boolean }[];
  data: string | null;
}

interface FakeSmtp {
  port: number;
  sessions: Session[];
  /** Replies to RCPT TO, in turn, the last one from then on. */
  rcptReplies: string[];
  close(): Promise<void>;
}

async function startFakeSmtp(tls: { key: string; cert: string }): Promise<FakeSmtp> {
  const context = createSecureContext(tls);
  const sessions: Session[] = [];
  const fake: FakeSmtp = { port: 0, sessions, rcptReplies: ['250 ok'], close: () => new Promise((resolve) => server.close(() => resolve())) };
  let rcpts = 0;
  const server: Server = createServer((plain) => {
    const session: Session = { commands: [], data: null };
    sessions.push(session);
    let socket: Socket = plain;
    let secure = false;
    let buffer = '';
    let inData: string[] | null = null;
    const say = (line: string) => socket.write(`${line}\r\n`);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            session.data = inData.join('\r\n');
            inData = null;
            say('250 2.0.0 queued as 42');
          } else inData.push(line);
          continue;
        }
        session.commands.push({ line, secure });
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO') {
          say('250-fake.example');
          if (!secure) say('250-STARTTLS');
          say('250 AUTH PLAIN');
        } else if (verb === 'STARTTLS') {
          say('220 go ahead');
          plain.removeListener('data', onData);
          socket = new TLSSocket(plain, { isServer: true, secureContext: context });
          secure = true;
          socket.on('data', onData);
          socket.on('error', () => {});
        } else if (verb === 'AUTH') say('235 2.7.0 authenticated');
        else if (verb === 'MAIL') say('250 ok');
        else if (verb === 'RCPT') say(fake.rcptReplies[Math.min(rcpts++, fake.rcptReplies.length - 1)]!);
        else if (verb === 'DATA') {
          inData = [];
          say('354 end with a dot');
        } else if (verb === 'QUIT') {
          say('221 bye');
          socket.end();
        } else say('502 unknown');
      }
    };
    plain.on('data', onData);
    plain.on('error', () => {});
    say('220 fake.example ESMTP');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as { port: number }).port;
  return fake;
}

const ended = (job: Job) => ['completed', 'failed', 'dead', 'cancelled'].includes(job.status);

describe('email destinations', () => {
  let folder: string;
  let smtp: FakeSmtp;
  let pipeline: Pipeline;
  let app: Hono;

  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'vibe-smtp-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem')], { stdio: 'ignore' });
    smtp = await startFakeSmtp({ key: readFileSync(join(folder, 'key.pem'), 'utf8'), cert: readFileSync(join(folder, 'cert.pem'), 'utf8') });
    pipeline = await startPipeline('alerts_email', {
      SMTP_URL: `smtp://alerts%40example.com:p%40ss-word@127.0.0.1:${smtp.port}`,
      SMTP_FROM: 'alerts@example.com',
      SMTP_CA_FILE: join(folder, 'cert.pem'),
      ALERT_DELIVERY_MAX_ATTEMPTS: '3',
    });
    const { services, queue } = pipeline;
    app = createApp({ config: services.config, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
  });
  after(async () => {
    await pipeline?.close();
    await smtp?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown = {}) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('an email goes out over STARTTLS, the password only after it, and a 451 is retried', async () => {
    smtp.rcptReplies = ['451 4.3.0 try again later', '250 ok'];
    const created = await post('/alerts', { name: 'mail me', kind: 'new_post', destinations: [{ type: 'email', to: ['ops@example.com', 'oncall@example.com'] }] });
    assert.equal(created.status, 201);
    const rule = (await created.json()) as { id: string; destinations: { type: string; to: string[] }[] };
    assert.deepEqual(rule.destinations[0], { id: (rule.destinations[0] as any).id, type: 'email', to: ['ops@example.com', 'oncall@example.com'] });
    const { job_id: jobId } = (await (await post(`/alerts/${rule.id}/test`)).json()) as { job_id: string };
    const job = await waitForJob(pipeline.queue, jobId, ended, 20_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);

    const session = smtp.sessions.at(-1)!;
    const auth = session.commands.find((c) => c.line.startsWith('AUTH PLAIN'))!;
    assert.equal(auth.secure, true, 'the password went out before STARTTLS');
    assert.equal(Buffer.from(auth.line.slice('AUTH PLAIN '.length), 'base64').toString(), '\0alerts@example.com\0p@ss-word');
    assert.deepEqual(session.commands.filter((c) => c.line.startsWith('RCPT')).map((c) => c.line), ['RCPT TO:<ops@example.com>', 'RCPT TO:<oncall@example.com>']);
    const [headers, body] = session.data!.split('\r\n\r\n');
    assert.match(headers!, /^Subject: \[vibe-tracker\] mail me: Test event: 0 new posts matched$/m);
    assert.match(headers!, /^To: ops@example\.com, oncall@example\.com$/m);
    assert.match(headers!, new RegExp(`^Message-ID: <${jobId}@example\\.com>$`, 'm'));
    assert.match(Buffer.from(body!.replace(/\r\n/g, ''), 'base64').toString('utf8'), /^mail me: Test event/);
  });

  test('a recipient refused with a 550 leaves the delivery dead-lettered after one attempt', async () => {
    smtp.rcptReplies = ['550 5.1.1 no such user'];
    const rule = (await (await post('/alerts', { name: 'bounce', kind: 'new_post', destinations: [{ type: 'email', to: ['nobody@example.com'] }] })).json()) as { id: string };
    const { job_id: jobId } = (await (await post(`/alerts/${rule.id}/test`)).json()) as { job_id: string };
    const job = await waitForJob(pipeline.queue, jobId, ended, 20_000);
    assert.deepEqual([job.status, job.attempts, job.error?.code], ['dead', 1, 'delivery_rejected']);
    assert.match(job.error!.message, /550 5\.1\.1 no such user/);
  });

  test('a bad recipient, a URL on an email destination, or email without SMTP_URL is a 400', async () => {
    const expect = async (body: unknown, code: string, on = app) => {
      const res = await on.request('/alerts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    };
    await expect({ name: 'x', kind: 'new_post', destinations: [{ type: 'email', to: ['ops@example.com\r\nBcc: a@b.c'] }] }, 'invalid_destination_to');
    await expect({ name: 'x', kind: 'new_post', destinations: [{ type: 'email', to: [] }] }, 'invalid_destination_to');
    await expect({ name: 'x', kind: 'new_post', destinations: [{ type: 'email', to: ['ops@example.com'], url: 'https://example.com/' }] }, 'invalid_destination_to');
    const { services, queue } = pipeline;
    const withoutMail = createApp({ config: { ...services.config, smtpUrl: null, smtpFrom: null }, redis: services.redis, sql: services.sql, queue, sources: await loadSourceRegistry(services.config), log: silentLogger });
    await expect({ name: 'x', kind: 'new_post', destinations: [{ type: 'email', to: ['ops@example.com'] }] }, 'email_not_configured', withoutMail);
  });
});
