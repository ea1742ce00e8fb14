import { fail, failMany, type Issue, ok, type Parsed } from './parsed.js';
import { type TlsField, type TlsParts, tlsExpected, tlsFields, tlsNames, tlsValue } from './tls.js';
import type { PgConnection } from './types.js';

/**
 * Filled in for parts a URL or the PG* variables leave out. 127.0.0.1 rather than libpq's Unix
 * socket: in a container the server's socket is not there.
 */
export const connectionDefaults = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

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
export type PartialConnection = Partial<Omit<PgConnection, 'tls'>> & { tls?: TlsParts };

const queryNames = new Map<string, TlsField>(tlsFields.map((field) => [tlsNames[field].query, field]));

/**
 * Parses `postgres://` and `postgresql://` URLs. Of the query parameters, libpq's sslmode,
 * sslrootcert, sslcert and sslkey are read (relative paths against `base`); any other is refused
 * rather than dropped, since a silently ignored option may be one that matters for security.
 */
export function postgresUrlValue(text: string, base: string): Parsed<PartialConnection> {
  if (hasAtAfterHost(text)) return fail(atAfterHostProblem);
  if (!URL.canParse(text))
    return fail('is not a valid URL (check the port; in the password, / # ? @ must be percent-encoded)');
  const url = new URL(text);
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    return fail(`has the scheme ${url.protocol.slice(0, -1)}, not postgresql`);
  }
  const unknown = [...new Set(url.searchParams.keys())].filter((name) => !queryNames.has(name));
  if (unknown.length > 0) {
    return fail(
      `has connection options (${unknown.join(', ')}), which are not supported (only ${[...queryNames.keys()].join(', ')} are)`,
    );
  }
  if (url.hash !== '') return fail('has a #fragment');
  const parts: PartialConnection = {};
  const tls = tlsFromQuery(url.searchParams, base);
  if (!tls.ok) return tls;
  if (Object.keys(tls.value).length > 0) parts.tls = tls.value;
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

function tlsFromQuery(params: URLSearchParams, base: string): Parsed<TlsParts> {
  const parts: TlsParts = {};
  const issues: Issue[] = [];
  for (const [name, field] of queryNames) {
    const values = params.getAll(name);
    if (values.length === 0) continue;
    if (values.length > 1) {
      issues.push({ problem: `has ${name} more than once`, expected: `${name} once` });
      continue;
    }
    const parsed = tlsValue(field, values[0]!, base);
    if (parsed.ok) (parts as Record<string, string>)[field] = parsed.value;
    else
      issues.push(
        ...parsed.issues.map((issue) => ({
          problem: `has ${name}=${JSON.stringify(values[0])}, which ${issue.problem}`,
          expected: `${name} ${tlsExpected[field]}`,
        })),
      );
  }
  return issues.length > 0 ? failMany(issues) : ok(parts);
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
