import type { ConfigFile } from './file.js';
import { type AllLayers, pick, pickedLayer } from './layers.js';
import { optional } from './optional.js';
import type { ProblemList } from './problems.js';
import { eitherOf } from './secret-pair.js';
import { sentinelDisplay, sentinelListExpected } from './sentinel-values.js';
import { type SettingKey, settings } from './settings.js';
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
  const sentinel = sentinelConfig(layers, file, problems);
  return {
    url: sentinel ? sentinelDisplay(sentinel.nodes, sentinel.name) : url,
    prefix: required(layers.queuePrefix),
    ...optional('password', password),
    ...optional('sentinel', sentinel),
  };
}

/**
 * REDIS_SENTINELS and REDIS_SENTINEL_NAME come together. REDIS_URL next to them is refused
 * rather than ranked: one of the two would be ignored in silence, and a service that quietly
 * talks to a fixed node instead of the current primary works until the first failover. (An ACL
 * user name, which REDIS_URL could carry, has no Sentinel form here yet.)
 */
function sentinelConfig(
  layers: AllLayers,
  file: ConfigFile | undefined,
  problems: ProblemList,
): NonNullable<BackupConfig['redis']['sentinel']> | undefined {
  const nodes = pick(layers.redisSentinels);
  const name = pick(layers.redisSentinelName);
  const password = eitherOf('redisSentinelPassword', 'redisSentinelPasswordFile', layers, file, problems);
  const tls = pick(layers.redisSentinelTls) ?? false;
  const where = (key: SettingKey) => {
    const layer = pickedLayer<unknown>(layers[key]);
    return {
      where: layer === 'file' ? `${file?.label ?? 'config file'}: ${key}` : settings[key].env,
      source: layer === 'file' || layer === 'override' ? layer : ('env' as const),
    };
  };
  if (layers.redisSentinels.failed || layers.redisSentinelName.failed) return undefined;
  if (nodes === undefined) {
    const stray = (['redisSentinelName', 'redisSentinelTls'] as const).find(
      (key) => !['fallback', undefined].includes(pickedLayer<unknown>(layers[key])),
    );
    const passwordKey =
      pickedLayer(layers.redisSentinelPasswordFile) === undefined
        ? 'redisSentinelPassword'
        : 'redisSentinelPasswordFile';
    if (stray !== undefined || password !== undefined) {
      problems.add({
        ...where(stray ?? passwordKey),
        problem: `is set without ${settings.redisSentinels.env}; expected ${settings.redisSentinels.env} (${sentinelListExpected}) as well, or neither`,
      });
    }
    return undefined;
  }
  if (name === undefined) {
    problems.add({
      ...where('redisSentinels'),
      problem: `is set without ${settings.redisSentinelName.env}; expected the master group name as well (the <name> of \`sentinel monitor <name> <host> <port> <quorum>\`)`,
    });
    return undefined;
  }
  const urlLayer = pickedLayer(layers.redisUrl);
  if (urlLayer !== undefined && urlLayer !== 'fallback') {
    problems.add({
      ...where('redisUrl'),
      problem: `is set together with ${settings.redisSentinels.env}; expected only one of them (with Sentinel, the sentinels name the primary: remove ${settings.redisUrl.env})`,
    });
    return undefined;
  }
  return { nodes, name, tls, ...optional('password', password) };
}
