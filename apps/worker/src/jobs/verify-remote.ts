import { RemoteStore, verifyRemoteBackup } from '@pgbackup/backup-core/offsite';
import type { ParsedJobData, VerifyJobResult } from '@pgbackup/queue';
import type { WorkerContext } from '../context.js';
import { findDestination } from './copy-job.js';
import type { JobRun } from './job-run.js';
import { startVerify } from './verify-start.js';

/**
 * Verifies a backup's copy in a destination (`verify --destination`): no local file needed, so
 * any worker sharing the bucket can check what another one copied. Never continues a chain.
 */
export async function runRemoteVerifyJob(
  ctx: WorkerContext,
  run: JobRun,
  data: ParsedJobData<'verify'> & { destination: string },
  targetName: string,
): Promise<VerifyJobResult> {
  const destination = findDestination(ctx, data.destination);
  const { level, engine, passed } = await startVerify(ctx, run, data, targetName, destination.name);
  const store = new RemoteStore(destination);
  try {
    const result = await verifyRemoteBackup(store, engine);
    run.summary(
      `copy of ${data.backupId} in ${destination.name} verified at level ${level} in ${result.verification.durationMs} ms (recorded in its manifest object)`,
    );
    return { ...passed(result.verification), destination: destination.name };
  } finally {
    store.close();
  }
}
