import {
  copyHealth,
  type DestinationConfig,
  type Manifest,
  type TargetConfig,
  withCurrentCopies,
} from '@pgbackup/backup-core';
import { Gauge, type Registry } from 'prom-client';

/**
 * Offsite copies in `/metrics`, from the catalog's confirmed `copies` (readCatalog: the local
 * manifests, where the local prune keeps a verified backup until its copies are confirmed; with
 * retention 0, the buckets' manifests too):
 * - `pgbackup_last_copy_success_timestamp_seconds{target,destination}`: when the newest
 *   confirmed copy was confirmed;
 * - `pgbackup_copy_behind{target,destination}`: copyHealth's `behind`, what `status` calls
 *   COPY MISSING;
 * - `pgbackup_copies{target,destination}`: backups on disk with a confirmed copy there.
 */
export function addCopyMetrics(
  registry: Registry,
  targets: readonly TargetConfig[],
  entries: ReadonlyArray<{ manifest: Manifest }>,
  now: Date,
  configured: readonly DestinationConfig[] = [],
): void {
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['target', 'destination'], registers: [registry] });
  const lastCopy = gauge(
    'pgbackup_last_copy_success_timestamp_seconds',
    'When the newest confirmed offsite copy of the target in the destination was confirmed, Unix time.',
  );
  const behind = gauge(
    'pgbackup_copy_behind',
    '1 when a verified backup older than the maximum age has no confirmed copy in the destination, nor any newer backup.',
  );
  const copies = gauge(
    'pgbackup_copies',
    'Backups in the catalog with a confirmed copy in the destination (size and SHA-256 checked after upload).',
  );
  for (const target of targets) {
    const manifests = withCurrentCopies(
      entries.filter((e) => e.manifest.target === target.name).map((e) => e.manifest),
      configured,
    );
    const health = copyHealth({
      destinations: target.destinations,
      manifests,
      maxAgeMs: target.maxAgeMs,
      now,
    });
    for (const destination of health) {
      const labels = { target: target.name, destination: destination.destination };
      if (destination.lastCopied) lastCopy.set(labels, Date.parse(destination.lastCopied.confirmedAt) / 1000);
      behind.set(labels, destination.behind ? 1 : 0);
      copies.set(
        labels,
        manifests.filter((m) => m.copies?.some((c) => c.destination === destination.destination)).length,
      );
    }
  }
}

/** `pgbackup_copy_failures{destination,code}`: failed copy jobs kept in the queue, by error code. */
export function copyFailureGauge(registry: Registry): Gauge {
  return new Gauge({
    name: 'pgbackup_copy_failures',
    help: 'Failed copy jobs kept in the queue (90 days), by destination and the error code their failure starts with.',
    labelNames: ['destination', 'code'],
    registers: [registry],
  });
}
