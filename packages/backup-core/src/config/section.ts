import type { ConfigFile } from './file.js';
import { type AllLayers, type Layers, pick, pickedLayer } from './layers.js';
import type { ConfigProblem, ProblemList } from './problems.js';
import { eitherOf, type PasswordFileKey, type PasswordKey } from './secret-pair.js';
import { type SettingKey, settings } from './settings.js';
import { required } from './targets.js';

/**
 * A part of the configuration that one app owns (the dashboard's listener and accounts): its rules
 * and its type live in that app, while its variables stay declared in the one settings table
 * (settings.ts), because every process reads the same environment and config file and must
 * recognise every key in them to catch a typo. A section is read in the same pass as the rest, so
 * its problems are reported with the others in one CONFIG_INVALID error.
 */
export interface ConfigSection<T> {
  read(reader: SectionReader): T;
}

/** What a section reads its settings through: precedence, defaults and problem reporting done. */
export interface SectionReader {
  /** The value by precedence (overrides > environment > file > default), undefined when unset. */
  value<K extends SettingKey>(key: K): SettingValue<K> | undefined;
  /** The value of a setting that has a default. */
  valueOrDefault<K extends SettingKey>(key: K): SettingValue<K>;
  /** A password and its file form: the strongest layer that sets either, both in one layer an error. */
  secret(inline: PasswordKey, fromFile: PasswordFileKey): string | undefined;
  /** A given value was invalid (already reported): skip checks that combine it with others. */
  failed(key: SettingKey): boolean;
  /** The variable's name, or `<file>: key` when the value came from the config file. */
  whereOf(key: SettingKey): string;
  /** Which layer supplied the value, if any. */
  source(key: SettingKey): 'override' | 'env' | 'file' | 'fallback' | undefined;
  problem(problem: ConfigProblem): void;
}

type SettingValue<K extends SettingKey> = AllLayers[K] extends Layers<infer T> ? T : never;

export function sectionReader(
  layers: AllLayers,
  file: ConfigFile | undefined,
  problems: ProblemList,
): SectionReader {
  return {
    value: (key) => pick(layers[key] as Layers<never>),
    valueOrDefault: (key) => required(layers[key] as Layers<never>),
    secret: (inline, fromFile) => eitherOf(inline, fromFile, layers, file, problems),
    failed: (key) => layers[key].failed,
    whereOf: (key) =>
      pickedLayer(layers[key] as Layers<unknown>) === 'file' && file
        ? `${file.label}: ${key}`
        : settings[key].env,
    source: (key) => pickedLayer(layers[key] as Layers<unknown>),
    problem: (problem) => problems.add(problem),
  };
}
