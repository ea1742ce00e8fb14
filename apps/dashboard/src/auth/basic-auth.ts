import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Accounts, Role } from './accounts.js';
import { type FailureLimiter, loginKey } from './failure-limiter.js';

export interface Principal {
  user: string;
  role: Role;
}

/** Who made the request; set by basicAuth on every request it lets through. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf called on a route that basicAuth does not guard');
  return principal;
}

export interface BasicAuthOptions {
  accounts: Accounts;
  limiter: FailureLimiter;
  /** Shown by browsers in the login prompt. */
  realm: string;
}

/** `user:password` from an `Authorization: Basic ...` header, or undefined when absent or malformed. */
export function parseBasicAuthorization(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const match = header ? /^Basic +([A-Za-z0-9+/=._~-]+) *$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * HTTP Basic authentication: simple for browsers, curl and Prometheus alike. Only wrong
 * credentials count as failures; a request without any (a browser's first, before its prompt)
 * just gets the challenge. The right password always gets in, at once, however many wrong ones
 * came before: an attacker's guesses must not lock the operator out. Wrong ones past the limit
 * (per client address and user name) wait a second and get 429, which slows a guesser that waits
 * for its answers. The client address is the peer's unless DASHBOARD_TRUST_PROXY says which
 * proxies to believe about X-Forwarded-For (Express's `trust proxy`, set by createDashboardApp).
 */
export function basicAuth(options: BasicAuthOptions): RequestHandler {
  const challenge = `Basic realm="${options.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  return async (req: Request, res: Response, next: NextFunction) => {
    const credentials = parseBasicAuthorization(req.get('authorization'));
    const role = credentials && options.accounts.authenticate(credentials.user, credentials.password);
    if (credentials && role) {
      res.locals.principal = { user: credentials.user, role } satisfies Principal;
      next();
      return;
    }
    if (credentials) {
      const key = loginKey(req.ip ?? req.socket.remoteAddress ?? 'unknown', credentials.user);
      // Checked before counting this one: the 11th wrong login within a minute is the first refused.
      const waitMs = options.limiter.retryAfterMs(key);
      if (waitMs === 0) options.limiter.recordFailure(key);
      else {
        await options.limiter.penalty();
        res
          .status(429)
          .set('Retry-After', String(Math.ceil(waitMs / 1000)))
          .type('text/plain')
          .send('Too many failed logins; try again later.\n');
        return;
      }
    }
    res.status(401).set('WWW-Authenticate', challenge).type('text/plain').send('Authentication required.\n');
  };
}
