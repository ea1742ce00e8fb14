import type { ConfigFile } from './file.js';
import type { AllLayers } from './layers.js';
import type { ProblemList } from './problems.js';
import { type SettingKey, settings } from './settings.js';

/** The settings that come as a password and its file form. */
export type PasswordKey =
  | 'dashboardPassword'
  | 'dashboardViewerPassword'
  | 'redisPassword'
  | 'redisSentinelPassword';
export type PasswordFileKey =
  | 'dashboardPasswordFile'
  | 'dashboardViewerPasswordFile'
  | 'redisPasswordFile'
  | 'redisSentinelPasswordFile';

/**
 * A password and its file form are one setting: the strongest layer that sets either wins, and
 * setting both in the same layer is an error (as in the postgres image).
 */
export function eitherOf(
  inline: PasswordKey,
  fromFile: PasswordFileKey,
  layers: AllLayers,
  file: ConfigFile | undefined,
  problems: ProblemList,
): string | undefined {
  for (const layer of ['override', 'env', 'file'] as const) {
    const a = layers[inline][layer];
    const b = layers[fromFile][layer];
    if (a !== undefined && b !== undefined) {
      const name = (key: SettingKey) => (layer === 'file' ? key : settings[key].env);
      problems.add({
        where: layer === 'file' ? `${file?.label ?? 'config file'}: ${fromFile}` : settings[fromFile].env,
        problem: `is set together with ${name(inline)}; expected only one of them`,
        source: layer,
      });
      return undefined;
    }
    if (a !== undefined || b !== undefined) return a ?? b;
  }
  return undefined;
}
