import { BackupError } from '../errors.js';

/** pg_dumpall's last comment: without it the output was cut short. */
const completeMarker = '-- PostgreSQL database cluster dump complete';

export type GlobalsStatementKind =
  | 'create-role'
  | 'alter-role'
  | 'comment-role'
  | 'grant-membership'
  | 'create-tablespace'
  | 'session'
  | 'other';

export interface GlobalsStatement {
  kind: GlobalsStatementKind;
  sql: string;
  /** The role (or tablespace) a statement creates or changes, unquoted. */
  name?: string;
}

/** Refuses SQL that is not a whole `pg_dumpall --globals-only` output. */
export function checkGlobalsText(sql: string, id: string): void {
  if (!sql.startsWith('--') || !sql.includes(completeMarker)) {
    throw new BackupError(
      'ARCHIVE_UNREADABLE',
      `backup ${id} is not a complete pg_dumpall --globals-only output (its closing line "${completeMarker}" is missing)`,
    );
  }
}

const ident = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const patterns: Array<[GlobalsStatementKind, RegExp]> = [
  ['create-role', new RegExp(`^CREATE ROLE ${ident};$`, 's')],
  ['alter-role', new RegExp(`^ALTER ROLE ${ident} `, 's')],
  ['comment-role', new RegExp(`^COMMENT ON ROLE ${ident} `, 's')],
  ['create-tablespace', new RegExp(`^CREATE TABLESPACE ${ident} `, 's')],
  ['grant-membership', new RegExp(`^GRANT ${ident} TO ${ident}`, 's')],
  ['session', /^SET [a-z_]+ = /s],
];

export function unquoteIdent(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replaceAll('""', '"') : text;
}

/**
 * The statements of a globals dump, one each, comments and psql meta-commands (`\restrict`)
 * left out. pg_dumpall writes one statement per line, except literals holding line breaks
 * (a role's comment, say): a statement ends at a `;` line end outside a literal.
 */
export function parseGlobals(sql: string): GlobalsStatement[] {
  const statements: GlobalsStatement[] = [];
  let current = '';
  for (const line of sql.split('\n')) {
    if (current === '' && (line.trim() === '' || line.startsWith('--') || line.startsWith('\\'))) continue;
    current = current === '' ? line : `${current}\n${line}`;
    const quotes = (current.match(/'/g) ?? []).length;
    if (!line.trimEnd().endsWith(';') || quotes % 2 !== 0) continue;
    statements.push(classify(current.trimEnd()));
    current = '';
  }
  if (current.trim() !== '') statements.push(classify(current.trimEnd()));
  return statements;
}

function classify(sql: string): GlobalsStatement {
  for (const [kind, pattern] of patterns) {
    const match = pattern.exec(sql);
    if (!match) continue;
    // A membership is about the member (`GRANT role TO member`).
    const raw = kind === 'grant-membership' ? match[2] : match[1];
    return { kind, sql, ...(raw ? { name: unquoteIdent(raw) } : {}) };
  }
  return { kind: 'other', sql };
}
