import { type BackupConfig, drillStatus, type Manifest } from '@pgbackup/backup-core';
import { Gauge, type Registry } from 'prom-client';

/**
 * The drill gauges, from the manifests (drillStatus). Duration and RPO are those of the last
 * successful drill, the figures an incident would rely on; a newer failed drill shows in
 * pgbackup_drill_last_failed. The drill max RTO is exported for alert rules to compare with.
 */
export function addDrillMetrics(
  registry: Registry,
  config: Pick<BackupConfig, 'targets'> & { drill?: BackupConfig['drill'] | undefined },
  entries: ReadonlyArray<{ manifest: Manifest }>,
): void {
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const lastSuccess = gauge(
    'pgbackup_drill_last_success_timestamp_seconds',
    'When the last successful restore drill of the target ended, Unix time.',
    ['target'],
  );
  const duration = gauge(
    'pgbackup_drill_duration_seconds',
    'Restore and row-count check of the last successful drill of the target: the measured RTO.',
    ['target'],
  );
  const rpo = gauge(
    'pgbackup_drill_rpo_seconds',
    'Age of the backup when the last successful drill of the target started: the RPO it gave.',
    ['target'],
  );
  const lastFailed = gauge(
    'pgbackup_drill_last_failed',
    '1 when the newest drill of the target failed (its backup does not restore).',
    ['target'],
  );
  const maxRto = gauge('pgbackup_drill_max_rto_seconds', 'BACKUP_DRILL_MAX_RTO, when set.');
  if (config.drill?.maxRtoMs !== undefined) maxRto.set(config.drill.maxRtoMs / 1000);

  const names = new Set(config.targets.map((target) => target.name));
  for (const entry of entries) names.add(entry.manifest.target);
  for (const target of names) {
    const status = drillStatus(
      entries.filter((entry) => entry.manifest.target === target).map((entry) => entry.manifest),
    );
    if (!status.last) continue;
    lastFailed.set({ target }, status.last.ok ? 0 : 1);
    if (!status.lastSuccess) continue;
    lastSuccess.set({ target }, Date.parse(status.lastSuccess.at) / 1000);
    duration.set({ target }, status.lastSuccess.restoreMs / 1000);
    rpo.set({ target }, status.lastSuccess.backupAgeMs / 1000);
  }
}
