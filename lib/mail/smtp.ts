// Sends one message over SMTP (RFC 5321) with node:net and node:tls alone: EHLO, STARTTLS when the server offers it
// (always before a password goes out, unless the server is on loopback), AUTH PLAIN, MAIL FROM, RCPT TO, DATA, QUIT.
// smtps:// is TLS from the first byte (port 465). Replies are read whole (multi-line "250-..." included); a 4xx
// reply is worth retrying, a 5xx one is not.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { permanent, transient } from '../errors.ts';
import { addressKind } from '../http/addresses.ts';

export interface SmtpServer {
  /** smtp://[user:password@]host[:port] (587 by default) or smtps://… (465). */
  url: string;
  from: string;
  timeoutMs: number;
  /** For tests: the CA of a server with a certificate of its own. */
  ca?: string;
}

export interface MailMessage {
  to: string[];
  subject: string;
  text: string;
  /** Message-ID's left part, the same on every attempt, so a mailbox can tell a repeat. */
  id: string;
}

// An address as RFC 5321 takes it in MAIL FROM and RCPT TO, without a display name, with nothing that would end
// a command line or a header (CR, LF) or split an address list.
const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export const isMailAddress = (value: unknown): value is string => typeof value === 'string' && value.length <= 254 && ADDRESS.test(value);

/** Why this SMTP_URL cannot be used, or null. */
export function smtpUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return 'must start with smtp:// (STARTTLS when offered) or smtps:// (TLS)';
  if (!url.hostname) return 'must name a host';
  return null;
}

interface Reply {
  code: number;
  lines: string[];
}

class Conversation {
  private buffer = '';
  private waiting: ((reply: Reply | Error) => void) | null = null;
  private failure: Error | null = null;
  private pending: string[] = [];
  /** Replies that came before anyone asked for them. */
  private replies: Reply[] = [];

  constructor(public socket: Socket | TLSSocket, private readonly where: string) {
    this.listen(socket);
  }

  listen(socket: Socket | TLSSocket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.deliver();
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** Stops reading this socket (before STARTTLS hands it to TLS). */
  detach(): Socket | TLSSocket {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
    return this.socket;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(error);
  }

  private deliver(): void {
    for (;;) {
      const end = this.buffer.indexOf('\n');
      if (end < 0) return;
      const line = this.buffer.slice(0, end).replace(/\r$/, '');
      this.buffer = this.buffer.slice(end + 1);
      this.pending.push(line);
      // "250-..." continues a reply; "250 ..." (or a bare "250") ends it.
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), lines: this.pending.map((l) => l.slice(4)) };
        this.pending = [];
        const waiting = this.waiting;
        this.waiting = null;
        if (waiting) waiting(reply);
        else this.replies.push(reply);
      }
    }
  }

  read(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const early = this.replies.shift();
      if (early) return resolve(early);
      if (this.failure) return reject(unavailable(this.where, this.failure));
      this.waiting = (reply) => (reply instanceof Error ? reject(unavailable(this.where, reply)) : resolve(reply));
      this.deliver();
    });
  }

  async command(line: string, expected: number[], what = line.split(' ')[0]!): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.expect(expected, what);
  }

  async expect(expected: number[], what: string): Promise<Reply> {
    const reply = await this.read();
    if (expected.includes(reply.code)) return reply;
    const text = `${this.where} answered ${what} with ${reply.code} ${reply.lines.join(' ').slice(0, 200)}`;
    throw reply.code >= 400 && reply.code < 500 ? transient('delivery_unavailable', text) : permanent('delivery_rejected', text);
  }
}

const unavailable = (where: string, error: Error) => transient('delivery_unavailable', `${where} could not be reached (${(error as { code?: string }).code ?? error.message})`, null, error);

export async function sendMail(server: SmtpServer, message: MailMessage, signal: AbortSignal): Promise<{ accepted: string }> {
  const url = new URL(server.url);
  const implicitTls = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (implicitTls ? 465 : 587));
  const where = `${host}:${port}`;
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const tlsOptions = { servername: isIP(host) ? undefined : host, ...(server.ca ? { ca: server.ca } : {}) };

  const socket: Socket | TLSSocket = implicitTls ? tlsConnect({ host, port, ...tlsOptions }) : netConnect({ host, port });
  socket.setTimeout(server.timeoutMs, () => socket.destroy(new Error('timed out')));
  const abort = () => socket.destroy(new Error('cancelled'));
  signal.addEventListener('abort', abort, { once: true });
  const talk = new Conversation(socket, where);
  try {
    await talk.expect([220], 'the greeting');
    const me = hostname() || 'vibe-tracker';
    let hello = await talk.command(`EHLO ${me}`, [250]);
    let secure = implicitTls;
    if (!secure && hello.lines.some((line) => /^STARTTLS\b/i.test(line))) {
      await talk.command('STARTTLS', [220]);
      const plain = talk.detach();
      // `host` is what the certificate is checked against; without it Node checks "localhost".
      const upgraded = tlsConnect({ socket: plain, host, ...tlsOptions });
      upgraded.setTimeout(server.timeoutMs, () => upgraded.destroy(new Error('timed out')));
      talk.listen(upgraded);
      await new Promise<void>((resolve, reject) => {
        upgraded.once('secureConnect', resolve);
        upgraded.once('error', reject);
      }).catch((error: Error) => {
        throw permanent('delivery_rejected', `${where}: the TLS handshake after STARTTLS failed (${error.message})`);
      });
      secure = true;
      hello = await talk.command(`EHLO ${me}`, [250]);
    }
    if (user) {
      // A password never crosses a network in the clear; loopback (a local relay) is the one exception.
      if (!secure && !isLoopback(host)) throw permanent('delivery_rejected', `${where} offers no STARTTLS: the SMTP password is not sent in the clear; use smtps:// or a server with TLS`);
      const token = Buffer.from(`\0${user}\0${password}`).toString('base64');
      await talk.command(`AUTH PLAIN ${token}`, [235], 'AUTH');
    }
    await talk.command(`MAIL FROM:<${server.from}>`, [250]);
    for (const to of message.to) await talk.command(`RCPT TO:<${to}>`, [250, 251], 'RCPT');
    await talk.command('DATA', [354]);
    talk.socket.write(`${formatMessage(server.from, message)}\r\n.\r\n`);
    const accepted = await talk.expect([250], 'the message');
    await talk.command('QUIT', [221]).catch(() => {});
    return { accepted: accepted.lines.join(' ').slice(0, 200) };
  } finally {
    signal.removeEventListener('abort', abort);
    talk.socket.destroy();
  }
}

const isLoopback = (host: string) => host === 'localhost' || addressKind(host) === 'loopback';

/**
 * The message as DATA sends it: headers, then the text base64-encoded (so no line is too long, none starts with a
 * dot, and a server without 8BITMIME takes it unchanged); the subject RFC 2047-encoded when it is not ASCII.
 */
export function formatMessage(from: string, message: MailMessage): string {
  // A line break in a header would start a header of the sender's choosing.
  const line = message.subject.replace(/[\r\n]+/g, ' ');
  const subject = /^[\x20-\x7e]*$/.test(line) ? line : `=?UTF-8?B?${Buffer.from(line).toString('base64')}?=`;
  const body = Buffer.from(message.text.replace(/\r?\n/g, '\r\n')).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${from}`,
    `To: ${message.to.join(', ')}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${message.id}@${from.slice(from.lastIndexOf('@') + 1)}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}
