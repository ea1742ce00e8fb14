import type { RunLog } from '@pgbackup/backup-core';
import { type RemoteStore, sweepIncompleteUploads } from '@pgbackup/backup-core/offsite';
import type { WorkerContext } from '../context.js';

/** Per worker: destinations whose endpoint lacks ListMultipartUploads, already reported. */
const reportedUnsupported = new WeakMap<object, Set<string>>();

/**
 * After a destination's prune: aborts the target's incomplete multipart uploads older than a day
 * (sweepIncompleteUploads). Housekeeping: a failure is written to the run log and never fails the
 * prune; an endpoint without ListMultipartUploads is reported once per worker, then skipped
 * quietly (the bucket's lifecycle rule is then the only cleanup).
 */
export async function sweepUploadsAfterPrune(
  ctx: Pick<WorkerContext, 'logger'>,
  store: RemoteStore,
  target: string,
  runLog: RunLog,
  signal: AbortSignal,
): Promise<void> {
  const name = store.destination.name;
  try {
    const result = await sweepIncompleteUploads(store, { target, signal });
    if (!result.supported) {
      const reported = reportedUnsupported.get(ctx) ?? new Set<string>();
      reportedUnsupported.set(ctx, reported);
      if (reported.has(name)) return;
      reported.add(name);
      const text = `${name}: incomplete multipart uploads are not swept: ${result.reason}; rely on the bucket's AbortIncompleteMultipartUpload lifecycle rule`;
      ctx.logger.warn({ destination: name }, text);
      await runLog.line(text);
      return;
    }
    for (const upload of result.aborted)
      await runLog.line(
        `${name}: aborted the incomplete upload of ${upload.key} started ${upload.initiated}`,
      );
  } catch (error) {
    if (signal.aborted) throw error;
    await runLog.line(
      `${name}: sweep of incomplete uploads failed (the prune is done): ${(error as Error).message}`,
    );
  }
}
