import { maxServerNameLength } from '../discovery/discovered-name.js';
import { type AllLayers, pick, pickForTarget } from './layers.js';
import { type ProblemList, quote } from './problems.js';
import type { TargetSettingValues } from './settings.js';
import type { TargetConfig } from './types.js';

/**
 * A target's discovery settings, when it names a server: a file target by its own `databases:`
 * (and `exclude:`), the DATABASE_URL target by BACKUP_DISCOVER (and BACKUP_DISCOVER_EXCLUDE, or
 * the file's top-level keys). The per-server cap follows the usual precedence.
 */
export function discoverSettings(
  name: string,
  own: TargetSettingValues,
  layers: AllLayers,
  where: string,
  problems: ProblemList,
): Pick<TargetConfig, 'discover'> {
  const fromEnv = where === 'DATABASE_URL';
  const databases = fromEnv ? pick(layers.databases) : own.databases;
  const exclude = fromEnv ? pick(layers.exclude) : own.exclude;
  const source = fromEnv ? 'env' : 'file';
  if (databases === undefined) {
    if (exclude !== undefined) {
      problems.add({
        where: fromEnv ? 'BACKUP_DISCOVER_EXCLUDE' : `${where}.exclude`,
        problem: `is set but ${fromEnv ? 'BACKUP_DISCOVER' : 'databases'} is not; expected ${fromEnv ? 'BACKUP_DISCOVER=all' : 'databases: all'} (or patterns) with it`,
        source,
      });
    }
    return {};
  }
  // Discovered targets are named `<server>.<database>`: a long server name would leave no room.
  if (name.length > maxServerNameLength) {
    problems.add({
      where: fromEnv ? 'BACKUP_TARGET_NAME' : `${where}.name`,
      value: quote(name),
      problem: `is ${name.length} characters long; a target that discovers databases needs a name of at most ${maxServerNameLength}, for example prod-eu`,
      source,
    });
    return {};
  }
  const concurrency = pickForTarget(layers.serverConcurrency, own.serverConcurrency);
  const noRolePasswords = pickForTarget(layers.noRolePasswords, own.noRolePasswords);
  if (concurrency === undefined || noRolePasswords === undefined)
    throw new Error('configuration setting without a default');
  return { discover: { databases, exclude: exclude ?? [], concurrency, noRolePasswords } };
}
