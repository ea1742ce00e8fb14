import type { ConfigFile } from './file.js';
import type { ProblemList } from './problems.js';
import { type Setting, type SettingKey, type SettingValue, settingKeys, settings } from './settings.js';
import { showValue } from './show.js';
import type { Variables } from './variables.js';

/** Where a setting's value can come from, strongest first (a target's own file value sits after `override`). */
export const layerOrder = ['override', 'env', 'file', 'fallback'] as const;
export type Layer = (typeof layerOrder)[number];

/** Every value a setting has, before precedence picks one. */
export interface Layers<T> {
  override?: T;
  env?: T;
  file?: T;
  fallback?: T;
  /** A value was given but is invalid: checks combining settings skip it to avoid noise. */
  failed: boolean;
}

export type AllLayers = { [K in SettingKey]: Layers<SettingValue<K>> };

export function readLayers(
  vars: Variables,
  file: ConfigFile | undefined,
  cwd: string,
  problems: ProblemList,
): AllLayers {
  const all: Partial<Record<SettingKey, Layers<unknown>>> = {};
  for (const key of settingKeys) {
    const definition: Setting<unknown> = settings[key];
    const layers = variableLayer(definition, vars, cwd, problems);
    if (file?.settings[key] !== undefined) layers.file = file.settings[key];
    if (file?.failed.has(key)) layers.failed = true;
    if (definition.defaultText !== undefined) {
      const fallback = definition.parse(definition.defaultText, cwd);
      if (fallback.ok) layers.fallback = fallback.value;
    }
    all[key] = layers;
  }
  return all as AllLayers;
}

function variableLayer<T>(
  definition: Setting<T>,
  vars: Variables,
  cwd: string,
  problems: ProblemList,
): Layers<T> {
  const variable = vars.get(definition.env, definition.show === 'secret');
  if (!variable) return { failed: false };
  const parsed = definition.parse(variable.text, cwd);
  if (parsed.ok) return { [variable.source]: parsed.value, failed: false };
  problems.addIssues(parsed.issues, {
    where: variable.name,
    value: showValue(variable.text, definition.show),
    source: variable.source,
    expected: definition.expected,
  });
  return { failed: true };
}

/** Overrides (CLI flags) > environment > config file > default. */
export function pick<T>(layers: Layers<T>): T | undefined {
  return layers.override ?? layers.env ?? layers.file ?? layers.fallback;
}

/**
 * For a target from the config file: its own value is more specific than the global variable,
 * so it sits between the overrides and the environment. Otherwise a BACKUP_SCHEDULE in a
 * compose file would silently flatten every per-target schedule.
 */
export function pickForTarget<T>(layers: Layers<T>, own: T | undefined): T | undefined {
  return layers.override ?? own ?? layers.env ?? layers.file ?? layers.fallback;
}

/** Which layer `pick` took its value from. */
export function pickedLayer<T>(layers: Layers<T>): Layer | undefined {
  return layerOrder.find((layer) => layers[layer] !== undefined);
}
