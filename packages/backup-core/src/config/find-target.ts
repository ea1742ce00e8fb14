import { BackupError } from '../errors.js';
import { closest } from './levenshtein.js';
import { quote } from './problems.js';
import type { BackupConfig, TargetConfig } from './types.js';

/** The target called `name`; TARGET_UNKNOWN lists the known names and the likeliest typo fix. */
export function findTarget(config: BackupConfig, name: string): TargetConfig {
  const target = config.targets.find((candidate) => candidate.name === name);
  if (target) return target;
  const known = config.targets.map((candidate) => candidate.name);
  const suggestion = closest(name, known);
  const hint = suggestion === undefined ? '' : ` Did you mean ${quote(suggestion)}?`;
  const list = known.length === 0 ? 'No targets are configured.' : `Known targets: ${known.join(', ')}.`;
  throw new BackupError('TARGET_UNKNOWN', `Unknown target ${quote(name)}.${hint} ${list}`, {
    details: { name: name.slice(0, 200), known, suggestion },
  });
}
