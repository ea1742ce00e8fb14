import { discoveredTargetName } from './discovered-name.js';
import { globMatches, isLiteralPattern } from './glob.js';

/** Which databases of a server are backed up: `all`, or the names matching any pattern. */
export interface DiscoveryRule {
  databases: 'all' | readonly string[];
  /** Patterns of databases never backed up, even when `databases` matches them. Default []. */
  exclude: readonly string[];
}

/** One row of pg_database, as listDatabases reads it. */
export interface DatabaseRow {
  name: string;
  allowConnections: boolean;
  /** Interrupted DROP DATABASE (PostgreSQL 15.4+ marks it datconnlimit = -2): cannot be dumped. */
  invalid: boolean;
}

export type SkipReason =
  | 'template'
  | 'no-connections'
  | 'invalid'
  | 'maintenance'
  | 'not-included'
  | 'excluded'
  | 'service-scratch'
  | 'name-collision';

export interface DiscoveredDatabase {
  /** The real name, as PostgreSQL spells it. */
  database: string;
  /** `<server>.<database>`, made safe (discoveredTargetName). */
  target: string;
}

export interface Discovery {
  server: string;
  /** Sorted by database name, so every worker sees the same order. */
  databases: DiscoveredDatabase[];
  skipped: Array<{ database: string; reason: SkipReason }>;
}

/**
 * Databases this service creates for itself while it works (restore staging, set-aside and
 * verify scratch databases, random hex): backing one up would dump a half-restored copy.
 */
const serviceScratch = /^pgbackup_(restore|replaced|verify)_[0-9a-f]+$/;

/**
 * Pure: which of `rows` the server target `server` backs up. `maintenance` is the database its
 * URL names (the one the service connects to in order to list the others); it is backed up only
 * when a pattern without wildcards names it exactly, since otherwise `databases: all` would back up
 * `postgres` on every server.
 */
export function selectDatabases(
  server: string,
  rows: readonly DatabaseRow[],
  rule: DiscoveryRule,
  maintenance: string,
): Discovery {
  const databases: DiscoveredDatabase[] = [];
  const skipped: Discovery['skipped'] = [];
  const byTarget = new Map<string, string>();
  const sorted = [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const row of sorted) {
    const reason = skipReason(row, rule, maintenance);
    if (reason) {
      skipped.push({ database: row.name, reason });
      continue;
    }
    const target = discoveredTargetName(server, row.name);
    // Only a database named like another's replaced-and-hashed form could collide: refuse the
    // second rather than mix two databases' backups in one catalog.
    if (byTarget.has(target)) {
      skipped.push({ database: row.name, reason: 'name-collision' });
      continue;
    }
    byTarget.set(target, row.name);
    databases.push({ database: row.name, target });
  }
  return { server, databases, skipped };
}

function skipReason(row: DatabaseRow, rule: DiscoveryRule, maintenance: string): SkipReason | undefined {
  if (row.name === 'template0' || row.name === 'template1') return 'template';
  if (!row.allowConnections) return 'no-connections';
  if (row.invalid) return 'invalid';
  if (serviceScratch.test(row.name)) return 'service-scratch';
  if (rule.exclude.some((pattern) => globMatches(pattern, row.name))) return 'excluded';
  const listed =
    rule.databases !== 'all' &&
    rule.databases.some((pattern) => isLiteralPattern(pattern) && pattern === row.name);
  if (row.name === maintenance && !listed) return 'maintenance';
  if (rule.databases === 'all') return undefined;
  return rule.databases.some((pattern) => globMatches(pattern, row.name)) ? undefined : 'not-included';
}

/** How a skip reason reads in a log line or `backupctl schedules`. */
export function describeSkip(reason: SkipReason): string {
  switch (reason) {
    case 'template':
      return 'a template database';
    case 'no-connections':
      return 'does not allow connections (datallowconn = false)';
    case 'invalid':
      return 'invalid (an interrupted DROP DATABASE)';
    case 'maintenance':
      return "the URL's maintenance database (name it in databases: to back it up)";
    case 'not-included':
      return 'matches no pattern of databases:';
    case 'excluded':
      return 'matches a pattern of exclude:';
    case 'service-scratch':
      return "one of this service's own staging or scratch databases";
    case 'name-collision':
      return 'its target name is already taken by another database of this server';
  }
}
