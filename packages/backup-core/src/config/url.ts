import { fail, ok, type Parsed } from './parsed.js';
import type { PgConnection } from './types.js';

export const postgresUrlExpected = 'postgresql://user:password@host:5432/database';

export const atAfterHostProblem =
  'has an @ after the host (in the password, / # ? @ must be percent-encoded)';

/**
 * An @ after the host is nearly always the end of a password whose / # or ? was not encoded:
 * such a URL may parse, with part of the password as port, path or query, and then be shown.
 * Refused, at the price of also refusing an unencoded @ in a database name.
 */
export function hasAtAfterHost(text: string): boolean {
  const schemeEnd = text.indexOf('://');
  const start = schemeEnd === -1 ? 0 : schemeEnd + 3;
  return text.indexOf('@', firstIndexOf(text, ['/', '?', '#', '\\'], start)) !== -1;
}

/** The parts a postgres URL may leave out; the caller fills them from PG* variables or defaults. */
export type PartialConnection = Partial<PgConnection>;

/**
 * Parses `postgres://` and `postgresql://` URLs. Query parameters are refused rather than dropped:
 * a silently ignored `sslmode=require` would send the password in clear text.
 */
export function postgresUrlValue(text: string): Parsed<PartialConnection> {
  if (hasAtAfterHost(text)) return fail(atAfterHostProblem);
  if (!URL.canParse(text))
    return fail('is not a valid URL (check the port; in the password, / # ? @ must be percent-encoded)');
  const url = new URL(text);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    return fail(`has the scheme ${url.protocol.slice(0, -1)}, not postgresql`);
  }
  if (url.search !== '') {
    const names = [...new Set(url.searchParams.keys())].join(', ');
    return fail(`has connection options (${names}), which are not supported`);
  }
  if (url.hash !== '') return fail('has a #fragment');
  const parts: PartialConnection = {};
  try {
    const host = decodeURIComponent(url.hostname);
    if (host.includes(',')) return fail('lists several hosts, which is not supported');
    if (host !== '') parts.host = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (url.port !== '') parts.port = Number(url.port);
    if (url.username !== '') parts.user = decodeURIComponent(url.username);
    if (url.password !== '') parts.password = decodeURIComponent(url.password);
    const path = url.pathname.replace(/^\//, '');
    if (path.includes('/')) return fail('has a path with more than the database name');
    if (path !== '') parts.database = decodeURIComponent(path);
  } catch {
    return fail('has a malformed %-escape');
  }
  if (parts.port === 0) return fail('has port 0');
  return ok(parts);
}

/** `postgresql://user@host:port/db`, for logs and screens: the password is never part of it. */
export function displayUrl(connection: PgConnection): string {
  const { host } = connection;
  const shownHost = host.includes(':') ? `[${host}]` : host.startsWith('/') ? encodeURIComponent(host) : host;
  const user = encodeURIComponent(connection.user);
  return `postgresql://${user}@${shownHost}:${connection.port}/${encodeURIComponent(connection.database)}`;
}

function firstIndexOf(text: string, needles: string[], from: number): number {
  let first = text.length;
  for (const needle of needles) {
    const index = text.indexOf(needle, from);
    if (index !== -1 && index < first) first = index;
  }
  return first;
}
