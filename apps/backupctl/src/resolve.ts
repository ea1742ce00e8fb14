import {
  type BackupConfig,
  type CatalogEntry,
  findBackup,
  findTarget,
  isBackupError,
  listBackups,
  type TargetConfig,
} from '@pgbackup/backup-core';
import { withDiscoveredTargets } from '@pgbackup/queue';
import type { CliContext } from './context.js';
import { CliError, exitCodes } from './exit-codes.js';

/** The configured target named `name`, or the only one when `name` is omitted. */
export function chooseTarget(config: BackupConfig, name: string | undefined): TargetConfig {
  if (name !== undefined) return findTarget(config, name);
  if (config.targets.length === 1) return config.targets[0]!;
  throw new CliError(
    'TARGET_REQUIRED',
    `${config.targets.length} targets are configured (${config.targets.map((t) => t.name).join(', ')}): say which one`,
    exitCodes.usage,
    'Pass --target NAME (or --all where the command offers it).',
  );
}

/**
 * The configured targets and the databases server targets discovered (known from Redis): what
 * a command that acts on backups by target name accepts.
 */
export async function knownTargets(ctx: CliContext): Promise<TargetConfig[]> {
  const config = ctx.config();
  if (!config.targets.some((target) => target.discover)) return config.targets;
  return withDiscoveredTargets(await ctx.redis(), config);
}

/** The target `name` among knownTargets: TARGET_UNKNOWN (with the closest names) when none. */
export async function findKnownTarget(
  ctx: CliContext,
  name: string,
  known?: TargetConfig[],
): Promise<TargetConfig> {
  // A configured target needs no Redis (prune --dry-run works with Redis down).
  const configured = ctx.config().targets.find((target) => target.name === name);
  if (configured) return configured;
  return findTarget({ ...ctx.config(), targets: known ?? (await knownTargets(ctx)) }, name);
}

/**
 * The backup `id`, from the manifests. An unknown or malformed id is a usage error that
 * suggests the closest existing ids (of the same target when the id names one).
 */
export async function resolveBackup(backupDir: string, id: string): Promise<CatalogEntry> {
  try {
    return await findBackup(backupDir, id);
  } catch (error) {
    if (!isBackupError(error, 'BACKUP_ID_INVALID') && !isBackupError(error, 'BACKUP_NOT_FOUND')) throw error;
    const target = /^\d{8}T\d{9}Z-(.+)-[0-9a-f]{6}$/.exec(id)?.[1];
    const ownTarget = target ? (await listBackups(backupDir, { target })).entries : [];
    const pool = ownTarget.length > 0 ? ownTarget : (await listBackups(backupDir)).entries;
    const suggestions = closest(
      id,
      pool.map((entry) => entry.manifest.id),
      3,
    );
    const hint =
      suggestions.length > 0
        ? `Did you mean ${suggestions.join(' or ')}?`
        : 'There are no backups in the backup directory yet (`backupctl backups` lists them).';
    throw new CliError(error.code, error.message, exitCodes.usage, hint);
  }
}

/** The `count` candidates nearest to `word` (edit distance), best first. */
export function closest(word: string, candidates: readonly string[], count: number): string[] {
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(word, candidate) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map((entry) => entry.candidate);
}

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}
