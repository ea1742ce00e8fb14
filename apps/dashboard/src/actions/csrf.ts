import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/basic-auth.js';

/**
 * Tokens for the dashboard's forms. Basic auth is sent by the browser on its own, so a form on
 * another site could post to the dashboard with the operator's credentials; Sec-Fetch-Site
 * (roles.ts) stops that in current browsers, and this token stops it in any browser, since the
 * other site cannot read the dashboard's page to learn it.
 *
 * Stateless: an HMAC of the account under a secret drawn at start, so no session store is needed.
 * A restart draws a new secret, and a form loaded before it is refused once (reload the page).
 */
export class CsrfTokens {
  private readonly secret: Buffer;

  constructor(secret: Buffer = randomBytes(32)) {
    this.secret = secret;
  }

  tokenFor(principal: Principal): string {
    return createHmac('sha256', this.secret)
      .update(`${principal.user}\u0000${principal.role}`)
      .digest('base64url');
  }

  matches(principal: Principal, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(principal));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
