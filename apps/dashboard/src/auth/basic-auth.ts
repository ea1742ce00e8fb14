import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Accounts, Role } from './accounts.js';
import type { FailureLimiter } from './failure-limiter.js';

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
 * just gets the challenge. A client over the limit gets 429 even with the right password, or the
 * limit would still let it find the password.
 */
export function basicAuth(options: BasicAuthOptions): RequestHandler {
  const challenge = `Basic realm="${options.realm.replace(/["\\]/g, '')}", charset="UTF-8"`;
  return (req: Request, res: Response, next: NextFunction) => {
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const waitMs = options.limiter.retryAfterMs(client);
    if (waitMs > 0) {
      res
        .status(429)
        .set('Retry-After', String(Math.ceil(waitMs / 1000)))
        .type('text/plain')
        .send('Too many failed logins; try again later.\n');
      return;
    }
    const credentials = parseBasicAuthorization(req.get('authorization'));
    const role = credentials && options.accounts.authenticate(credentials.user, credentials.password);
    if (credentials && role) {
      res.locals.principal = { user: credentials.user, role } satisfies Principal;
      next();
      return;
    }
    if (credentials) options.limiter.recordFailure(client);
    res.status(401).set('WWW-Authenticate', challenge).type('text/plain').send('Authentication required.\n');
  };
}
