import { fail, ok, type Parsed } from './parsed.js';
import { completeTls } from './tls.js';
import type { PgConnection } from './types.js';
import { connectionDefaults, postgresUrlExpected, postgresUrlValue } from './url.js';

export const drillServerExpected = `a postgres URL of the drill server, for example ${postgresUrlExpected.replace('/database', '/postgres')} (the database is the one connected to for CREATE and DROP DATABASE; default postgres)`;

/** The drill server's URL; its database defaults to `postgres` (scratch databases are created beside it). */
export function drillServerValue(text: string, base: string): Parsed<PgConnection> {
  const parsed = postgresUrlValue(text, base);
  if (!parsed.ok) return parsed;
  const { tls: tlsParts, ...rest } = parsed.value;
  const tls = completeTls(tlsParts ?? {});
  if (!tls.ok) return tls;
  if (rest.database === '') return fail('has an empty database name');
  return ok({
    ...connectionDefaults,
    database: 'postgres',
    ...rest,
    ...(tls.value ? { tls: tls.value } : {}),
  });
}
