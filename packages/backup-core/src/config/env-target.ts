import { redactUrl } from '../redact.js';
import { connectionDefaults } from './file-target.js';
import type { Parsed } from './parsed.js';
import { type ProblemList, quote } from './problems.js';
import { targetNameExpected, targetNameValue } from './target-name.js';
import { completeTls, type TlsParts, tlsExpected, tlsFields, tlsNames, tlsValue } from './tls.js';
import type { PgConnection } from './types.js';
import { type PartialConnection, postgresUrlExpected, postgresUrlValue } from './url.js';
import { secretFileValue, wholeNumberIn } from './values.js';
import type { Variable, Variables } from './variables.js';

export interface EnvTarget {
  name: string;
  connection: PgConnection;
  /** The TLS settings the environment gave, each one: they override a file target's field by field. */
  tlsParts: TlsParts;
}

/** Any of these makes the environment describe a target; PGUSER alone does not. */
/** Any of these makes the variables describe a target. */
export const envTargetTriggers = [
  'DATABASE_URL',
  'PGDATABASE',
  'POSTGRES_DB',
  'PGHOST',
  'POSTGRES_HOST',
] as const;
const portExpected = 'a port from 1 to 65535, for example 5432';
const passwordFileExpected =
  'a readable file holding the password, for example /run/secrets/postgres_password';
const port = wholeNumberIn(1, 65535);

/**
 * The target described by DATABASE_URL, the libpq variables (PG*) and the official postgres
 * image's variables (POSTGRES_*), so the service can share a compose file's `environment:` with
 * the database. Per field the URL wins, then PG*, then POSTGRES_*.
 */
export function readEnvTarget(vars: Variables, cwd: string, problems: ProblemList): EnvTarget | undefined {
  const nameVariable = vars.get('BACKUP_TARGET_NAME');
  if (!envTargetTriggers.some((name) => vars.get(name) !== undefined)) {
    if (nameVariable) {
      problems.add({
        ...at(nameVariable),
        value: quote(nameVariable.text),
        problem: `is set but no database is; expected DATABASE_URL too, for example ${postgresUrlExpected}`,
      });
    }
    return undefined;
  }
  const before = problems.count;

  const urlVariable = vars.get('DATABASE_URL');
  let fromUrl: PartialConnection = {};
  if (urlVariable) {
    const parsed = postgresUrlValue(urlVariable.text, cwd);
    if (parsed.ok) fromUrl = parsed.value;
    else
      report(
        parsed,
        urlVariable,
        quote(redactUrl(urlVariable.text)),
        `a postgres URL, for example ${postgresUrlExpected}`,
        problems,
      );
  }

  const ports = ['PGPORT', 'POSTGRES_PORT'].map((name) => {
    const variable = vars.get(name);
    return variable && report(port(variable.text), variable, quote(variable.text), portExpected, problems);
  });

  const connection: PgConnection = {
    host:
      fromUrl.host ?? vars.get('PGHOST')?.text ?? vars.get('POSTGRES_HOST')?.text ?? connectionDefaults.host,
    port: fromUrl.port ?? ports[0] ?? ports[1] ?? connectionDefaults.port,
    user:
      fromUrl.user ?? vars.get('PGUSER')?.text ?? vars.get('POSTGRES_USER')?.text ?? connectionDefaults.user,
    database: '',
  };
  // libpq's rule: without a database name, the user's name is used.
  connection.database =
    fromUrl.database ?? vars.get('PGDATABASE')?.text ?? vars.get('POSTGRES_DB')?.text ?? connection.user;
  const password =
    fromUrl.password ?? vars.get('PGPASSWORD', true)?.text ?? postgresPassword(vars, cwd, problems);
  if (password !== undefined) connection.password = password;

  // Per field, like the rest: the URL's parameter, then the PGSSL* variable.
  const tlsParts: TlsParts = { ...readTlsVariables(vars, cwd, problems), ...fromUrl.tls };
  const tls = completeTls(tlsParts);
  if (!tls.ok) problems.addIssues(tls.issues, { where: 'DATABASE_URL, PGSSL*', source: 'env', expected: '' });
  else if (tls.value) connection.tls = tls.value;

  const name = targetName(nameVariable, connection.database, problems);
  if (problems.count > before || name === undefined) return undefined;
  return { name, connection, tlsParts };
}

function readTlsVariables(vars: Variables, cwd: string, problems: ProblemList): TlsParts {
  const parts: TlsParts = {};
  for (const field of tlsFields) {
    const variable = vars.get(tlsNames[field].env);
    if (!variable) continue;
    const value = report(
      tlsValue(field, variable.text, cwd),
      variable,
      quote(variable.text),
      tlsExpected[field],
      problems,
    );
    if (value !== undefined) (parts as Record<string, string>)[field] = value;
  }
  return parts;
}

/** Like the postgres image: POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, never both. */
function postgresPassword(vars: Variables, cwd: string, problems: ProblemList): string | undefined {
  const inline = vars.get('POSTGRES_PASSWORD', true);
  const file = vars.get('POSTGRES_PASSWORD_FILE');
  if (inline && file) {
    problems.add({
      ...at(file),
      value: quote(file.text),
      problem: 'is set together with POSTGRES_PASSWORD; expected only one of them',
    });
    return undefined;
  }
  if (file)
    return report(secretFileValue(file.text, cwd), file, quote(file.text), passwordFileExpected, problems);
  return inline?.text;
}

function targetName(
  variable: Variable | undefined,
  database: string,
  problems: ProblemList,
): string | undefined {
  if (variable)
    return report(
      targetNameValue(variable.text),
      variable,
      quote(variable.text),
      targetNameExpected,
      problems,
    );
  const derived = targetNameValue(database);
  if (derived.ok) return derived.value;
  problems.add({
    where: 'BACKUP_TARGET_NAME',
    problem: `is not set and the database name ${quote(database)} cannot be a target name; expected BACKUP_TARGET_NAME with ${targetNameExpected}`,
    source: 'env',
  });
  return undefined;
}

function at(variable: Variable) {
  return { where: variable.name, source: variable.source };
}

function report<T>(
  parsed: Parsed<T>,
  variable: Variable,
  value: string,
  expected: string,
  problems: ProblemList,
): T | undefined {
  if (parsed.ok) return parsed.value;
  problems.addIssues(parsed.issues, { ...at(variable), value, expected });
  return undefined;
}
