import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Principal } from '../auth/basic-auth.js';
import { withTimeout } from '../timeout.js';

/** Where the form secret comes from: once per process, retried after a failure. */
export type CsrfSecretSource = () => Promise<Buffer>;

const SECRET_BYTES = 32;

/** A secret of this process alone: for a single dashboard and for tests. */
export function processSecret(): CsrfSecretSource {
  const secret = randomBytes(SECRET_BYTES);
  return async () => secret;
}

/**
 * The secret every dashboard sharing this Redis uses, so a form served by one replica behind a
 * load balancer is accepted by another, and a restart does not refuse the forms already open.
 * The first dashboard to ask stores it (SET NX); the others read that one. Whoever can read Redis
 * can forge a token, but could enqueue the same jobs directly anyway. Rotation: delete the key.
 */
export function redisSecret(redis: Redis, prefix: string): CsrfSecretSource {
  const key = `${prefix}:dashboard:csrf-secret`;
  return async () => {
    const fetch = async () => {
      await redis.set(key, randomBytes(SECRET_BYTES).toString('base64'), 'NX');
      const stored = await redis.get(key);
      if (!stored) throw new Error(`the form secret ${key} vanished from Redis as it was read`);
      return Buffer.from(stored, 'base64');
    };
    return withTimeout(fetch(), 3_000, 'Redis (form secret)');
  };
}

/**
 * Tokens for the dashboard's forms. Basic auth is sent by the browser on its own, so a form on
 * another site could post to the dashboard with the operator's credentials; Sec-Fetch-Site
 * (roles.ts) stops that in current browsers, and this token stops it in any browser, since the
 * other site cannot read the dashboard's page to learn it.
 *
 * Stateless per request: an HMAC of the account under a secret, so no session store is needed.
 */
export class CsrfTokens {
  private secret: Promise<Buffer> | undefined;

  constructor(private readonly source: CsrfSecretSource = processSecret()) {}

  private key(): Promise<Buffer> {
    if (!this.secret) {
      const loading = this.source();
      this.secret = loading;
      // A failed load (Redis away) is tried again on the next request, not remembered.
      loading.catch(() => {
        if (this.secret === loading) this.secret = undefined;
      });
    }
    return this.secret;
  }

  async tokenFor(principal: Principal): Promise<string> {
    return createHmac('sha256', await this.key())
      .update(`${principal.user}\u0000${principal.role}`)
      .digest('base64url');
  }

  async matches(principal: Principal, token: unknown): Promise<boolean> {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(await this.tokenFor(principal));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
