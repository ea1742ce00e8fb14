import { globalsTargetName, type TargetConfig } from '@pgbackup/backup-core';
import type { TargetAction } from '../pages/target-page.js';

/**
 * Why `action` cannot be taken on `target`, or undefined when it can: one rule for the page (a
 * disabled button with this as its title) and the POST (409 with it). The worker would refuse a
 * dump of a server target or of a server's globals (TARGET_UNKNOWN), and that failure would make
 * the target FAILING until the server's next run.
 */
export function actionRefusal(
  target: TargetConfig,
  action: TargetAction,
  hasBackups: boolean,
): string | undefined {
  if (target.discover)
    return `${target.name} is a server target: it has no backups of its own; act on one of its databases`;
  const server = target.server;
  const isGlobals = server !== undefined && target.name === globalsTargetName(server);
  if (action === 'backup' && isGlobals)
    return `the roles and tablespaces of server ${server} are dumped at every run of the server, not alone`;
  if (action === 'verify' && !hasBackups) return 'no backup to verify yet';
  if (action === 'drill') {
    if (isGlobals) return `the globals of server ${server} are restored by each of its databases' drills`;
    if (!target.drill.server) return 'no drill server (BACKUP_DRILL_DATABASE_URL)';
  }
  return undefined;
}
