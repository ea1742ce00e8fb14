import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isMapping, unknownKey, valueAt } from './file-shape.js';
import { type FileTarget, fileTarget } from './file-target.js';
import type { Parsed } from './parsed.js';
import { type ProblemList, quote } from './problems.js';
import { type SettingKey, type SettingValues, settingFromFile, settingKeys, settings } from './settings.js';
import { showValue } from './show.js';
import type { Variable } from './variables.js';

const require = createRequire(import.meta.url);

/**
 * The YAML parser, loaded the first time a configuration file is read (synchronously, as the whole
 * configuration is): most runs have no file, and loading it costs backupctl a tenth of a second.
 */
function loadYaml(): typeof import('yaml') {
  return require('yaml') as typeof import('yaml');
}

export interface ConfigFile {
  /** The path as the user gave it, which is what they will recognise in a message. */
  label: string;
  settings: SettingValues;
  /** Settings present in the file but invalid, so checks that combine values can skip them. */
  failed: Set<SettingKey>;
  targets: FileTarget[];
  /** `destinations:` as written; read once the global retention (their default) is known. */
  destinations?: unknown;
  /** The config file's directory. */
  base: string;
}

export const fileExpected = 'a .json, .yaml or .yml file';
const topKeys = [...settingKeys, 'targets', 'destinations'];
const keyOfVariable = new Map(settingKeys.map((key) => [settings[key].env, key]));

/**
 * Reads BACKUP_CONFIG. Relative paths inside the file resolve against the file's directory (as
 * in docker-compose and tsconfig), so the file means the same wherever the process starts.
 */
export function readConfigFile(
  variable: Variable,
  cwd: string,
  problems: ProblemList,
): ConfigFile | undefined {
  const at = { where: variable.name, value: quote(variable.text), source: variable.source };
  const file = path.resolve(cwd, variable.text);
  const extension = path.extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension)) {
    problems.add({ ...at, problem: `has no .json, .yaml or .yml extension; expected ${fileExpected}` });
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    problems.add({ ...at, problem: `cannot be read (${code}); expected ${fileExpected}` });
    return undefined;
  }
  const label = variable.text;
  const parsed = extension === '.json' ? parseJson(text) : parseYaml(text);
  if (!parsed.ok) {
    problems.add({ where: label, problem: `${parsed.problem}; expected ${fileExpected}`, source: 'file' });
    return undefined;
  }
  return readRoot(parsed.value ?? {}, label, path.dirname(file), problems);
}

type Syntax = { ok: true; value: unknown } | { ok: false; problem: string };

// Parser messages can quote the offending text, which may be a password: only positions are kept.
function parseJson(text: string): Syntax {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    if (position === undefined) return { ok: false, problem: 'is not valid JSON' };
    const before = text.slice(0, Number(position)).split('\n');
    const where = `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    return { ok: false, problem: `is not valid JSON (at ${where})` };
  }
}

function parseYaml(text: string): Syntax {
  try {
    return { ok: true, value: loadYaml().parse(text) };
  } catch (error) {
    const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const code = (error as { code?: string }).code;
    const where = linePos ? ` at line ${linePos.line}, column ${linePos.col}` : '';
    return { ok: false, problem: `is not valid YAML (${code ?? 'syntax error'}${where})` };
  }
}

function readRoot(root: unknown, label: string, base: string, problems: ProblemList): ConfigFile {
  const config: ConfigFile = { label, settings: {}, failed: new Set(), targets: [], base };
  if (!isMapping(root)) {
    problems.add({
      where: label,
      problem: 'is not a mapping of settings; expected for example {"targets": [...]}',
      source: 'file',
    });
    return config;
  }
  for (const [key, raw] of Object.entries(root)) {
    if (key === 'targets') {
      config.targets = readTargets(raw, label, base, problems);
    } else if (key === 'destinations') {
      config.destinations = raw;
    } else if (isSettingKey(key)) {
      const definition = settings[key];
      const parsed: Parsed<unknown> = settingFromFile<unknown>(definition, raw, base);
      if (parsed.ok) (config.settings as Record<string, unknown>)[key] = parsed.value;
      else {
        config.failed.add(key);
        problems.addIssues(
          parsed.issues,
          {
            where: `${label}: ${key}`,
            value: showValue(raw, definition.show),
            source: 'file',
            expected: definition.expected,
          },
          (inner) => showValue(valueAt(raw, inner), definition.show),
        );
      }
    } else {
      problems.add(unknownKey(label, [key], topKeys, keyOfVariable.get(key)));
    }
  }
  return config;
}

function readTargets(raw: unknown, label: string, base: string, problems: ProblemList): FileTarget[] {
  if (!Array.isArray(raw)) {
    problems.add({
      where: `${label}: targets`,
      problem: `is ${raw === null ? 'empty' : 'not a list'}; expected a list of {name, url, ...} entries`,
      source: 'file',
    });
    return [];
  }
  const targets: FileTarget[] = [];
  raw.forEach((entry: unknown, index) => {
    const target = fileTarget(entry, { label, path: ['targets', index], base }, problems);
    if (target) targets.push(target);
  });
  return targets;
}

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settings, key);
}
