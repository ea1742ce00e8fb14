import path from 'node:path';
import type { DestinationConfig, TargetConfig } from '../config/types.js';
import type { Manifest } from '../manifest.js';
import type { DestinationListing } from '../offsite/union-catalog.js';
import { listBackups } from './catalog.js';
import { targetDirectory } from './layout.js';

export type { DestinationListing };

/** A backup in the catalog, and where it lives. */
export interface CatalogBackup {
  /** The local manifest when there is one (it holds the local file's verifications), else a destination's. */
  manifest: Manifest;
  /** The local backup directory holds it. */
  local: boolean;
  /** The local backup file, when `local`. */
  filePath: string | undefined;
  /** Destinations whose bucket holds its manifest object (only read when `source` is `union`). */
  destinations: string[];
}

export interface Catalog {
  /** `local`: the backup directory alone; `union`: it and every destination's manifest objects. */
  source: 'local' | 'union';
  /** Newest first. */
  backups: CatalogBackup[];
  /** Unreadable manifests (files, or objects of a listed destination). */
  problems: Array<{ where: string; message: string }>;
  /**
   * With `union`, one per destination: listed, or the coded error that kept its backups out. A
   * destination that failed makes the catalog incomplete: say so, never show it as "no backups".
   */
  destinations: DestinationListing[];
}

export interface CatalogConfig {
  backupDir: string;
  targets: readonly Pick<TargetConfig, 'name' | 'retention'>[];
  destinations?: readonly DestinationConfig[] | undefined;
}

/**
 * Whether the catalog must include the buckets: only when a target in scope keeps backups locally
 * only until they are copied (retention 0), whose backup directory is nearly empty by design and
 * whose repository is the bucket. Otherwise the local manifests suffice (the local prune keeps
 * every verified backup until its copies are confirmed, and records them there), and reading
 * the catalog costs no S3 request and loads no AWS SDK.
 */
export function catalogReadsBuckets(config: CatalogConfig, target?: string): boolean {
  if ((config.destinations?.length ?? 0) === 0) return false;
  const named = target === undefined ? [] : config.targets.filter((t) => t.name === target);
  // A target the configuration does not name (a discovered database, a removed target): any
  // target with retention 0 may have put it in a bucket.
  const inScope = named.length > 0 ? named : config.targets;
  return inScope.some((t) => t.retention.untilCopied === true);
}

/**
 * The catalog as the configuration defines it, the one answer for backupctl (`status`,
 * `backups`) and the dashboard (pages and metrics): the local manifests, or their union with
 * every destination's (catalogReadsBuckets). The S3 code is imported only in the second case, so
 * a CLI that lists a local directory starts without it. Each destination's listing is bounded
 * by `timeoutMs` (default 10 s; the destinations are listed side by side); one that fails or
 * takes longer is reported in `problems` and `destinations`, never thrown.
 */
export async function readCatalog(
  config: CatalogConfig,
  options: { target?: string; timeoutMs?: number } = {},
): Promise<Catalog> {
  const filter = options.target === undefined ? {} : { target: options.target };
  if (catalogReadsBuckets(config, options.target)) {
    const { listBackupsEverywhere } = await import('../offsite/union-catalog.js');
    const union = await listBackupsEverywhere(config.backupDir, config.destinations ?? [], {
      ...filter,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return {
      source: 'union',
      backups: union.backups.map((placed) => ({
        ...placed,
        filePath: placed.local
          ? path.join(targetDirectory(config.backupDir, placed.manifest.target), placed.manifest.file)
          : undefined,
      })),
      problems: union.problems,
      destinations: union.destinations,
    };
  }
  const local = await listBackups(config.backupDir, filter);
  return {
    source: 'local',
    backups: local.entries.map((entry) => ({
      manifest: entry.manifest,
      local: true,
      filePath: entry.filePath,
      destinations: [],
    })),
    problems: local.problems.map((p) => ({ where: p.path, message: p.message })),
    destinations: [],
  };
}
