import { hidden, redactUrl } from '../redact.js';
import { targetDestinationsExpected, targetDestinationsValue } from './destinations.js';
import { isMapping, unknownKey, valueAt } from './file-shape.js';
import type { Parsed } from './parsed.js';
import { formatPath, type ProblemList, quote } from './problems.js';
import { settingFromFile, settings, type TargetSettingValues, targetSettingKeys } from './settings.js';
import { showValue } from './show.js';
import { targetNameExpected, targetNameValue } from './target-name.js';
import {
  completeTls,
  type TlsField,
  type TlsParts,
  tlsExpected,
  tlsFields,
  tlsNames,
  tlsValue,
} from './tls.js';
import type { PgConnection } from './types.js';
import { connectionDefaults, postgresUrlExpected, postgresUrlValue } from './url.js';
import { secretFileValue } from './values.js';

export interface FileTarget {
  /** `backups.yaml: targets[1]`, for messages about the whole entry. */
  where: string;
  /** `targets[1]`. */
  entry: string;
  name: string;
  connection: PgConnection;
  settings: TargetSettingValues;
  /** Its own list of destination names; unset means every destination. */
  destinations?: string[];
}

const tlsKeys = tlsFields.map((field) => tlsNames[field].file);
const targetKeys = ['name', 'url', 'passwordFile', 'destinations', ...tlsKeys, ...targetSettingKeys] as const;
const urlExpected = `a postgres URL with a database name, for example ${postgresUrlExpected}`;
const passwordFileExpected = 'a readable file holding the password, for example /run/secrets/app_db_password';

// Declared in url.ts, beside the URL parser, so that the drill server's URL fills in the same parts.
export { connectionDefaults } from './url.js';

interface Place {
  label: string;
  path: ReadonlyArray<string | number>;
  /** The config file's directory. */
  base: string;
}

/** One entry of `targets:`; undefined when it is unusable (its problems are reported). */
export function fileTarget(entry: unknown, place: Place, problems: ProblemList): FileTarget | undefined {
  const where = (...inner: Array<string | number>) =>
    `${place.label}: ${formatPath([...place.path, ...inner], false)}`;
  if (!isMapping(entry)) {
    problems.add({
      where: where(),
      problem: 'is not a mapping; expected {name: app, url: postgresql://...}',
      source: 'file',
    });
    return undefined;
  }
  const before = problems.count;
  for (const key of Object.keys(entry)) {
    if (!(targetKeys as readonly string[]).includes(key))
      problems.add(unknownKey(place.label, [...place.path, key], targetKeys));
  }

  const name = text(entry.name, where('name'), targetNameExpected, problems);
  const parsedName =
    name === undefined
      ? undefined
      : report(targetNameValue(name), where('name'), quote(name), targetNameExpected, problems);

  const url = text(entry.url, where('url'), urlExpected, problems, true);
  let connection: PgConnection | undefined;
  let urlTls: TlsParts = {};
  if (url !== undefined) {
    const shown = quote(redactUrl(url));
    const parts = report(postgresUrlValue(url, place.base), where('url'), shown, urlExpected, problems);
    if (parts && parts.database === undefined) {
      problems.add({
        where: where('url'),
        value: shown,
        problem: `has no database name; expected ${urlExpected}`,
        source: 'file',
      });
    } else if (parts?.database !== undefined) {
      const { tls, ...rest } = parts;
      urlTls = tls ?? {};
      connection = { ...connectionDefaults, ...rest, database: parts.database };
    }
  }

  if (entry.passwordFile !== undefined) {
    const file = text(entry.passwordFile, where('passwordFile'), passwordFileExpected, problems);
    const password =
      file === undefined
        ? undefined
        : report(
            secretFileValue(file, place.base),
            where('passwordFile'),
            quote(file),
            passwordFileExpected,
            problems,
          );
    if (connection?.password !== undefined) {
      problems.add({
        where: where('passwordFile'),
        value: quote(file),
        problem: `is set while url has a password (${hidden}); expected only one of them`,
        source: 'file',
      });
    } else if (connection && password !== undefined) connection.password = password;
  }

  if (connection) {
    const tls = fileTls(entry, urlTls, place.base, where, problems);
    if (tls) connection.tls = tls;
  }

  const own: TargetSettingValues = {};
  for (const key of targetSettingKeys) {
    const raw = entry[key];
    if (raw === undefined) continue;
    const definition = settings[key];
    const parsed: Parsed<unknown> = settingFromFile<unknown>(definition, raw, place.base);
    if (parsed.ok) (own as Record<string, unknown>)[key] = parsed.value;
    else {
      problems.addIssues(
        parsed.issues,
        {
          where: where(key),
          value: showValue(raw, definition.show),
          source: 'file',
          expected: definition.expected,
        },
        (inner) => showValue(valueAt(raw, inner), definition.show),
      );
    }
  }
  let destinations: string[] | undefined;
  if (entry.destinations !== undefined) {
    const parsed = targetDestinationsValue(entry.destinations);
    if (parsed.ok) destinations = parsed.value;
    else
      problems.addIssues(parsed.issues, {
        where: where('destinations'),
        value: quote(entry.destinations),
        source: 'file',
        expected: targetDestinationsExpected,
      });
  }
  if (problems.count > before || parsedName === undefined || connection === undefined) return undefined;
  return {
    where: where(),
    entry: formatPath(place.path, false),
    name: parsedName,
    connection,
    settings: own,
    ...(destinations === undefined ? {} : { destinations }),
  };
}

/**
 * The target's sslMode, sslRootCert, sslCert and sslKey keys together with its URL's parameters.
 * The same setting in both places is refused, as a password in both is: which one wins would be
 * a guess.
 */
function fileTls(
  entry: Record<string, unknown>,
  fromUrl: TlsParts,
  base: string,
  where: (...inner: string[]) => string,
  problems: ProblemList,
): PgConnection['tls'] {
  const parts: TlsParts = { ...fromUrl };
  for (const field of tlsFields) {
    const key = tlsNames[field].file;
    if (entry[key] === undefined) continue;
    const raw = text(entry[key], where(key), tlsExpected[field], problems);
    if (raw === undefined) continue;
    if (fromUrl[field] !== undefined) {
      problems.add({
        where: where(key),
        value: quote(raw),
        problem: `is set while url has ${tlsNames[field].query}; expected only one of them`,
        source: 'file',
      });
      continue;
    }
    const value = report(
      tlsValue(field as TlsField, raw, base),
      where(key),
      quote(raw),
      tlsExpected[field],
      problems,
    );
    if (value !== undefined) (parts as Record<string, string>)[field] = value;
  }
  const tls = completeTls(parts);
  if (tls.ok) return tls.value;
  problems.addIssues(tls.issues, { where: where(), source: 'file', expected: '' });
  return undefined;
}

/** A required text field: missing, empty or not text is a problem. */
function text(
  raw: unknown,
  where: string,
  expected: string,
  problems: ProblemList,
  secret = false,
): string | undefined {
  if (typeof raw === 'string' && raw.trim() !== '') return raw.trim();
  const problem = raw === undefined ? 'is missing' : typeof raw === 'string' ? 'is empty' : 'is not text';
  const value = raw === undefined ? {} : { value: secret ? hidden : quote(raw) };
  problems.add({ where, ...value, problem: `${problem}; expected ${expected}`, source: 'file' });
  return undefined;
}

function report<T>(
  parsed: Parsed<T>,
  where: string,
  value: string,
  expected: string,
  problems: ProblemList,
): T | undefined {
  if (parsed.ok) return parsed.value;
  problems.addIssues(parsed.issues, { where, value, source: 'file', expected });
  return undefined;
}
