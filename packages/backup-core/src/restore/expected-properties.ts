import { unquoteIdent } from '../globals/globals-sql.js';
import type { DatabaseProperty } from './database-properties.js';

/**
 * What the archive's DATABASE entries say the database looks like once they are applied: read
 * from the statements themselves, not from a server, so that a restore that loses or changes a
 * property is caught by comparing this with what the restored database has.
 */
export interface ExpectedDatabaseProperties {
  /** From `ALTER DATABASE ... OWNER TO`; undefined when the archive has none. */
  owner: string | undefined;
  /** `name=value` of each `ALTER DATABASE ... SET`, as pg_db_role_setting keeps them, sorted. */
  settings: string[];
  /** `role: name=value` of each `ALTER ROLE ... IN DATABASE ... SET`, sorted. */
  roleSettings: string[];
  comment: string | null;
  /**
   * The database ACL as `grantee=privilege[*]/grantor` items (PUBLIC is an empty grantee), sorted:
   * the default ACL of the owner with the archive's REVOKEs and GRANTs played over it.
   */
  acl: string[];
}

const ident = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const literal = `'(?:[^']|'')*'`;
const ownerPattern = new RegExp(`^ALTER DATABASE %DATABASE% OWNER TO ${ident};$`, 's');
const settingPattern = /^ALTER DATABASE %DATABASE% SET ([^ ]+) TO (.*);$/s;
const roleSettingPattern = new RegExp(
  `^ALTER ROLE ${ident} IN DATABASE %DATABASE% SET ([^ ]+) TO (.*);$`,
  's',
);
const commentPattern = new RegExp(`^COMMENT ON DATABASE %DATABASE% IS (${literal});$`, 's');
const grantPattern = /^(GRANT|REVOKE) (.+?) ON DATABASE %DATABASE% (?:TO|FROM) (.+?)( WITH GRANT OPTION)?;$/s;
const sessionPattern = new RegExp(`^SET SESSION AUTHORIZATION ${ident};$`, 's');

/** Database privileges and their ACL letters (aclitem's `C`, `T`, `c`). */
const privilegeLetters: Record<string, string> = { CREATE: 'C', TEMPORARY: 'T', TEMP: 'T', CONNECT: 'c' };

function unquoteLiteral(text: string): string {
  return text.slice(1, -1).replaceAll("''", "'");
}

/**
 * pg_dump writes a setting's value as one string literal, or, for list settings such as
 * search_path, one literal per element; the server keeps the elements joined by `, `.
 */
function settingValue(sqlValue: string): string {
  const elements = sqlValue.match(new RegExp(literal, 'g'));
  return elements ? elements.map(unquoteLiteral).join(', ') : sqlValue;
}

/** Reads the properties the archive's statements set. */
export function expectedDatabaseProperties(
  properties: readonly DatabaseProperty[],
): ExpectedDatabaseProperties {
  let owner: string | undefined;
  let comment: string | null = null;
  const settings: string[] = [];
  const roleSettings: string[] = [];
  const grants: Array<{
    revoke: boolean;
    privileges: string[];
    grantees: string[];
    option: boolean;
    by?: string;
  }> = [];
  let sessionUser: string | undefined;
  for (const { template } of properties) {
    const owned = ownerPattern.exec(template);
    const setting = settingPattern.exec(template);
    const roleSetting = roleSettingPattern.exec(template);
    const commented = commentPattern.exec(template);
    const session = sessionPattern.exec(template);
    const grant = grantPattern.exec(template);
    if (owned) owner = unquoteIdent(owned[1]!);
    else if (setting) settings.push(`${setting[1]}=${settingValue(setting[2]!)}`);
    else if (roleSetting)
      roleSettings.push(
        `${unquoteIdent(roleSetting[1]!)}: ${roleSetting[2]}=${settingValue(roleSetting[3]!)}`,
      );
    else if (commented) comment = unquoteLiteral(commented[1]!);
    else if (session) sessionUser = unquoteIdent(session[1]!);
    else if (template.startsWith('RESET SESSION AUTHORIZATION')) sessionUser = undefined;
    else if (grant) {
      grants.push({
        revoke: grant[1] === 'REVOKE',
        privileges: grant[2]!.split(',').map((p) => p.trim().toUpperCase()),
        grantees: grant[3]!.split(/,\s*/).map((g) => (g === 'PUBLIC' ? '' : unquoteIdent(g.trim()))),
        option: grant[4] !== undefined,
        ...(sessionUser !== undefined ? { by: sessionUser } : {}),
      });
    }
  }
  return {
    owner,
    settings: settings.sort(),
    roleSettings: roleSettings.sort(),
    comment,
    acl: owner === undefined ? [] : playAcl(owner, grants),
  };
}

/**
 * A database's default ACL (owner: CTc, PUBLIC: Tc, granted by the owner), then each statement in
 * order. A grant made as the superuser is recorded as made by the owner, as PostgreSQL does.
 */
function playAcl(
  owner: string,
  statements: ReadonlyArray<{
    revoke: boolean;
    privileges: string[];
    grantees: string[];
    option: boolean;
    by?: string;
  }>,
): string[] {
  // key `grantee/grantor` -> letter -> with grant option
  const acl = new Map<string, Map<string, boolean>>();
  const entry = (grantee: string, grantor: string) => {
    const key = `${grantee}\u0000${grantor}`;
    const privileges = acl.get(key) ?? new Map<string, boolean>();
    acl.set(key, privileges);
    return privileges;
  };
  for (const letter of 'CTc') entry(owner, owner).set(letter, false);
  for (const letter of 'Tc') entry('', owner).set(letter, false);
  for (const statement of statements) {
    const letters = statement.privileges.flatMap((p) =>
      p === 'ALL' || p === 'ALL PRIVILEGES'
        ? ['C', 'T', 'c']
        : privilegeLetters[p]
          ? [privilegeLetters[p]!]
          : [],
    );
    const grantor = statement.by ?? owner;
    for (const grantee of statement.grantees) {
      const privileges = entry(grantee, grantor);
      for (const letter of letters) {
        if (statement.revoke) privileges.delete(letter);
        else privileges.set(letter, statement.option || (privileges.get(letter) ?? false));
      }
    }
  }
  return aclItems(
    [...acl].flatMap(([key, privileges]) => {
      const [grantee, grantor] = key.split('\u0000') as [string, string];
      return [...privileges].map(([letter, option]) => ({ grantee, grantor, letter, option }));
    }),
  );
}

/** One text per grantee and grantor, letters in aclitem's order: `reader=c/owner`, `=Tc/owner`. */
export function aclItems(
  privileges: ReadonlyArray<{ grantee: string; grantor: string; letter: string; option: boolean }>,
): string[] {
  const order = 'CTc';
  const grouped = new Map<string, string[]>();
  for (const p of [...privileges].sort((a, b) => order.indexOf(a.letter) - order.indexOf(b.letter))) {
    const key = `${p.grantee}=\u0000/${p.grantor}`;
    grouped.set(key, [...(grouped.get(key) ?? []), `${p.letter}${p.option ? '*' : ''}`]);
  }
  return [...grouped].map(([key, letters]) => key.replace('\u0000', letters.join(''))).sort();
}
