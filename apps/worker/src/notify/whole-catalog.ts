import {
  type BackupConfig,
  type Catalog,
  type Logger,
  readCatalog,
  type TargetConfig,
} from '@pgbackup/backup-core';

/**
 * The catalog that status, the dashboard and the metrics read (readCatalog: with retention 0 the
 * buckets'), for a check that alerts: undefined, with a warning naming `check`, when a
 * destination could not be listed. Judged on half a catalog, a target whose backups (or drills)
 * are kept only in the bucket that is away would look stale; the failing copies and `status`
 * already say that the bucket is away.
 */
export async function wholeCatalog(
  config: BackupConfig,
  targets: readonly TargetConfig[],
  logger: Logger,
  check: string,
): Promise<Catalog | undefined> {
  const catalog = await readCatalog({
    backupDir: config.backupDir,
    targets,
    destinations: config.destinations,
  });
  const unlisted = catalog.destinations.filter((listing) => !listing.ok);
  if (unlisted.length === 0) return catalog;
  logger.warn(
    { destinations: unlisted.map((listing) => listing.destination) },
    `${check} skipped: a destination of the catalog could not be listed`,
  );
  return undefined;
}

/** A whole catalog to read at most once, however many checks ask for it. */
export type CatalogReader = () => Promise<Catalog | undefined>;

/** wholeCatalog read once, on the first call: the checks of one tick share it. */
export function catalogOnce(
  config: BackupConfig,
  targets: () => readonly TargetConfig[],
  logger: Logger,
  check: string,
): CatalogReader {
  let read: Promise<Catalog | undefined> | undefined;
  return () => {
    read ??= wholeCatalog(config, targets(), logger, check);
    return read;
  };
}
