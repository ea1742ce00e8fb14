import type { OperatorKey } from '../crypto/index.js';
import { BackupError } from '../errors.js';
import { connect, type PgConnection, postgresError } from '../postgres/connection.js';
import { quoteIdent } from '../postgres/scratch.js';
import {
  type DatabaseProperty,
  type DatabasePropertyState,
  readDatabaseProperties,
  readDatabasePropertyState,
} from '../restore/database-properties.js';
import {
  aclItems,
  type ExpectedDatabaseProperties,
  expectedDatabaseProperties,
} from '../restore/expected-properties.js';
import type { CatalogEntry } from '../storage/catalog.js';

/** The properties compared, by the names the errors and notes use. */
export type ComparedProperty = 'owner' | 'settings' | 'role settings' | 'comment' | 'acl';

/** What the restored database has, in the shapes ExpectedDatabaseProperties uses. */
export interface RestoredDatabaseProperties extends DatabasePropertyState {
  /** Its ACL as `grantee=privileges/grantor` items (the default ACL spelled out when null), sorted. */
  aclItems: string[];
}

export interface PropertyCheckResult {
  /** The properties compared and found as the archive says. */
  compared: ComparedProperty[];
  /** Why a property was not compared (a role this server lacks), one sentence each. */
  notes: string[];
}

/**
 * Carries the archive's database properties (owner, `ALTER DATABASE ... SET` and
 * `ALTER ROLE ... IN DATABASE ... SET` settings, comment, ACL) over to a restored scratch
 * database and compares what the server then has with what the archive says, property by
 * property. Used by the `restore` verification and by drills (one comparison for both).
 *
 * A property that names a role this server lacks (a drill server without the source's globals),
 * or that the connecting role may not set, is not compared, and said so in the notes: that is the
 * server's state, not the backup's. Any
 * other failure to apply is VERIFY_INCONCLUSIVE; a difference is DATABASE_PROPERTY_MISMATCH
 * naming the property and both values.
 */
export async function checkRestoredDatabaseProperties(input: {
  entry: CatalogEntry;
  keyring: readonly OperatorKey[];
  pgRestore: string;
  server: PgConnection;
  database: string;
  signal?: AbortSignal;
}): Promise<PropertyCheckResult> {
  const properties = await readDatabaseProperties(input.entry, input.keyring, input.pgRestore, input.signal);
  const { skipped, notes } = await applyWhatThisServerCan(input.server, input.database, properties);
  const expected = expectedDatabaseProperties(properties);
  const restored = await readRestoredDatabaseProperties(input.server, input.database);
  const result = compareDatabaseProperties(expected, restored, skipped);
  if (result.mismatches.length > 0) {
    throw new BackupError(
      'DATABASE_PROPERTY_MISMATCH',
      `after restore, the database properties of backup ${input.entry.manifest.id} differ from its archive: ${result.mismatches.join('; ')}`,
      { details: { mismatches: result.mismatches } },
    );
  }
  return { compared: result.compared, notes };
}

/**
 * Differences between what the archive says and what the restored database has, as sentences
 * naming the property and both values; `skip` leaves properties out.
 */
export function compareDatabaseProperties(
  expected: ExpectedDatabaseProperties,
  restored: RestoredDatabaseProperties,
  skip: ReadonlySet<ComparedProperty> = new Set(),
): { compared: ComparedProperty[]; mismatches: string[] } {
  const compared: ComparedProperty[] = [];
  const mismatches: string[] = [];
  const compare = (property: ComparedProperty, archive: string, actual: string) => {
    if (skip.has(property)) return;
    compared.push(property);
    if (archive !== actual)
      mismatches.push(`${property}: the restored database has ${actual}, the archive says ${archive}`);
  };
  const list = (items: readonly string[]) => (items.length === 0 ? '(none)' : JSON.stringify(items));
  // An archive without an owner entry (made by a role that could not read it) names no owner, and
  // then no ACL either: the default ACL depends on the owner.
  if (expected.owner !== undefined) {
    compare('owner', JSON.stringify(expected.owner), JSON.stringify(restored.owner));
    compare('acl', list(expected.acl), list(restored.aclItems));
  }
  compare('settings', list(expected.settings), list(restored.settings));
  compare('role settings', list(expected.roleSettings), list(restored.roleSettings));
  compare(
    'comment',
    expected.comment === null ? '(none)' : JSON.stringify(expected.comment),
    restored.comment === null ? '(none)' : JSON.stringify(restored.comment),
  );
  return { compared, mismatches };
}

export async function readRestoredDatabaseProperties(
  server: PgConnection,
  database: string,
): Promise<RestoredDatabaseProperties> {
  const state = await readDatabasePropertyState(server, database);
  const client = await connect(server);
  try {
    const { rows } = await client.query<{
      grantee: string;
      grantor: string;
      privilege: string;
      option: boolean;
    }>(
      `SELECT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END AS grantee,
              pg_get_userbyid(a.grantor) AS grantor, a.privilege_type AS privilege, a.is_grantable AS option
         FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        WHERE d.datname = $1`,
      [database],
    );
    const letters: Record<string, string> = { CREATE: 'C', TEMPORARY: 'T', CONNECT: 'c' };
    return {
      ...state,
      aclItems: aclItems(
        rows.map((row) => ({
          grantee: row.grantee,
          grantor: row.grantor,
          letter: letters[row.privilege] ?? row.privilege,
          option: row.option,
        })),
      ),
    };
  } catch (error) {
    throw postgresError(error, `could not read the ACL of database ${database}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which property a statement sets, for skipping it and saying why. */
function comparedPropertyOf(property: DatabaseProperty): ComparedProperty | undefined {
  if (property.kind === 'owner') return 'owner';
  if (property.kind === 'privileges') return 'acl';
  if (property.kind === 'comment') return 'comment';
  if (property.kind === 'setting')
    return property.template.startsWith('ALTER ROLE') ? 'role settings' : 'settings';
  return undefined;
}

/**
 * Applies each statement on one connection, in order. A statement this server cannot apply for
 * reasons of its own, a role it does not have (42704) or a privilege the connecting role lacks
 * (42501: a verify connecting as the target's own, non-superuser role), leaves its property (and
 * the ACL, when it is the owner) out of the comparison, with a note. Any other failure says
 * nothing about the backup either, but the check could not be made: VERIFY_INCONCLUSIVE.
 */
async function applyWhatThisServerCan(
  server: PgConnection,
  database: string,
  properties: readonly DatabaseProperty[],
): Promise<{ skipped: Set<ComparedProperty>; notes: string[] }> {
  const skipped = new Set<ComparedProperty>();
  const notes: string[] = [];
  if (properties.some((p) => p.kind === 'security-label'))
    notes.push('security labels on the database are neither applied nor compared');
  const client = await connect(server);
  try {
    for (const property of properties) {
      const compared = comparedPropertyOf(property);
      if (compared === undefined || skipped.has(compared)) continue;
      const sql = property.template.replace('%DATABASE%', quoteIdent(database));
      try {
        await client.query(sql);
      } catch (error) {
        const message = (error as Error).message;
        const code = (error as { code?: string }).code;
        const missingRole = code === '42704' && /^role .* does not exist$/.test(message);
        if (!missingRole && code !== '42501') {
          throw new BackupError(
            'VERIFY_INCONCLUSIVE',
            `could not apply the database's ${compared} to the scratch database (${property.template.replace('%DATABASE%', '<database>').slice(0, 200)}): ${message}`,
            { cause: error },
          );
        }
        await client.query('RESET SESSION AUTHORIZATION');
        skipped.add(compared);
        notes.push(
          `${compared} not compared: ${message} on the scratch server${missingRole ? " (replay the server's globals first)" : ' (the role verifying may not set it)'}`,
        );
        if (compared === 'owner' && !skipped.has('acl')) {
          skipped.add('acl');
          notes.push(`acl not compared: it depends on the owner (${message})`);
        }
      }
    }
    return { skipped, notes };
  } finally {
    await client.end().catch(() => undefined);
  }
}
