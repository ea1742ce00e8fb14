#!/usr/bin/env node
import {
  BackupError,
  createLogger,
  loadConfig,
  localDefaultNotice,
  onStopSignals,
  redactSecrets,
} from '@pgbackup/backup-core';
import { startWorkerService } from './service.js';

/**
 * The worker process. Signals: the first SIGTERM/SIGINT stops taking jobs and lets running ones
 * finish until BACKUP_SHUTDOWN_TIMEOUT, then aborts them; a second signal aborts at once.
 * Exit codes: 0 stopped cleanly, 1 failed at run time, 2 configuration error.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ localDefault: true });
  } catch (error) {
    process.stderr.write(
      `pgbackup worker: configuration error\n${redactSecrets((error as Error).message)}\n`,
    );
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, name: 'pgbackup-worker' });
  if (config.localDefault) logger.warn(localDefaultNotice);
  let service: Awaited<ReturnType<typeof startWorkerService>>;
  try {
    service = await startWorkerService(config, { logger });
  } catch (error) {
    const code = error instanceof BackupError ? error.code : 'STARTUP_FAILED';
    logger.fatal({ code }, (error as Error).message);
    process.stderr.write(
      `pgbackup worker: cannot start: ${code}: ${redactSecrets((error as Error).message)}\n`,
    );
    process.exit(error instanceof BackupError && error.code === 'CONFIG_INVALID' ? 2 : 1);
  }
  onStopSignals({
    graceful: (signal) => {
      logger.info(
        { signal },
        'stopping: no new jobs, running ones may finish (send the signal again to abort them)',
      );
      service.close().then(
        () => process.exit(0),
        (error: Error) => {
          logger.error({ err: error.message }, 'error while stopping');
          process.exit(1);
        },
      );
    },
    immediate: (signal) => {
      logger.warn({ signal }, 'second signal: aborting running jobs');
      service.close({ force: true });
      setTimeout(() => process.exit(1), 5_000).unref();
    },
  });
}

void main();
