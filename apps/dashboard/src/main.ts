import {
  createLogger,
  isBackupError,
  localDefaultNotice,
  onStopSignals,
  redactSecrets,
} from '@pgbackup/backup-core';
import { type DashboardConfig, loadDashboardConfig } from './config/dashboard-section.js';
import { startDashboard } from './server.js';

/**
 * Entry point (`node apps/dashboard/dist/main.js`). The first SIGTERM or SIGINT closes the
 * dashboard gracefully; a second one, or a close that takes too long, exits at once.
 */
async function main(): Promise<void> {
  let config: DashboardConfig;
  try {
    // The dashboard also serves a deployment whose targets are not configured yet (the catalog
    // on disk and the queue are still worth seeing).
    config = loadDashboardConfig({ requireTargets: false, localDefault: true });
  } catch (error) {
    if (isBackupError(error, 'CONFIG_INVALID')) {
      process.stderr.write(`dashboard: ${redactSecrets(error.message)}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, name: 'pgbackup-dashboard' });
  if (config.localDefault) logger.warn(localDefaultNotice);
  const dashboard = await startDashboard(config, { logger });

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping the dashboard');
    const force = setTimeout(() => {
      logger.error('the dashboard did not stop within 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    dashboard.close().then(
      () => {
        clearTimeout(force);
        process.exitCode = 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  onStopSignals({
    graceful: stop,
    immediate: (signal) => {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `dashboard: could not start: ${redactSecrets(error instanceof Error ? error.message : String(error))}\n`,
  );
  process.exit(1);
});
