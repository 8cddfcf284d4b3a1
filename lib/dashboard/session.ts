// Dashboard sign-ins, kept in Redis under the queue's prefix with the session's lifetime as TTL. Redis rather than a
// signed cookie: signing out (or a lead who deletes the keys) ends a session at once on every API process, and no
// signing key has to be configured and shared between them. The cookie holds a random id; Redis holds only its
// SHA-256, so a copy of Redis gives no usable cookie.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role } from '../api/auth.ts';
import type { RedisKeys } from '../redis/keys.ts';

export interface Session {
  role: Role;
  /** Every form of the session carries it; a POST without it is refused. */
  csrf: string;
  /** Whether it was made by signing in with a token, rather than handed out because the API is open. */
  signedIn: boolean;
}

const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly ttlMs: number,
  ) {}

  async create(role: Role, signedIn: boolean): Promise<{ id: string; session: Session }> {
    const id = randomToken();
    const session: Session = { role, csrf: randomToken(), signedIn };
    await this.redis.set(this.keys.dashboardSession(digest(id)), JSON.stringify(session), 'PX', this.ttlMs);
    return { id, session };
  }

  async get(id: string | undefined): Promise<Session | null> {
    if (!id || !SESSION_ID.test(id)) return null;
    const stored = await this.redis.get(this.keys.dashboardSession(digest(id)));
    if (!stored) return null;
    const session = JSON.parse(stored) as Partial<Session>;
    if ((session.role !== 'admin' && session.role !== 'read') || typeof session.csrf !== 'string') return null;
    return { role: session.role, csrf: session.csrf, signedIn: session.signedIn === true };
  }

  async end(id: string | undefined): Promise<void> {
    if (id && SESSION_ID.test(id)) await this.redis.del(this.keys.dashboardSession(digest(id)));
  }
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether a submitted token is the expected one, in time that does not depend on where they differ. */
export function sameToken(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
