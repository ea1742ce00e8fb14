import { optional } from './dashboard.js';
import type { ConfigFile } from './file.js';
import { type AllLayers, pickedLayer } from './layers.js';
import type { ProblemList } from './problems.js';
import { eitherOf } from './secret-pair.js';
import { settings } from './settings.js';
import { required } from './targets.js';
import type { BackupConfig } from './types.js';

/**
 * Redis of the queue: the URL, and a password given apart from it (REDIS_PASSWORD or
 * REDIS_PASSWORD_FILE) so that it appears neither in the URL nor on a command line.
 *
 * A password in the URL together with a separate one is refused rather than ranked: ioredis
 * would silently prefer one of them, and whichever it is, an operator rotating "the" password
 * would edit the other one and lock the service out at its next restart.
 */
export function redisConfig(
  layers: AllLayers,
  file: ConfigFile | undefined,
  problems: ProblemList,
): BackupConfig['redis'] {
  const url = required(layers.redisUrl);
  const password = eitherOf('redisPassword', 'redisPasswordFile', layers, file, problems);
  if (password !== undefined && !layers.redisUrl.failed && new URL(url).password !== '') {
    const layer = (['override', 'env', 'file'] as const).find(
      (candidate) =>
        layers.redisPassword[candidate] !== undefined || layers.redisPasswordFile[candidate] !== undefined,
    );
    const key =
      layer && layers.redisPasswordFile[layer] !== undefined ? 'redisPasswordFile' : 'redisPassword';
    const inFile = layer === 'file';
    problems.add({
      where: inFile ? `${file?.label ?? 'config file'}: ${key}` : settings[key].env,
      problem: `is set while ${pickedLayer(layers.redisUrl) === 'file' ? 'redisUrl of the config file' : settings.redisUrl.env} also holds a password; expected only one of them (remove the password from the URL)`,
      source: layer ?? 'env',
    });
  }
  return { url, prefix: required(layers.queuePrefix), ...optional('password', password) };
}
