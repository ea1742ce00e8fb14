import { BackupError } from '@pgbackup/backup-core';
import { type CopyJobResult, enqueueCopy, parseJobResult } from '@pgbackup/queue';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { exitCodes } from '../exit-codes.js';
import { followOneJob } from '../follow.js';
import { humanDuration } from '../output.js';
import { resolveBackup } from '../resolve.js';

/** `copy --json`: one entry per destination. */
export interface CopyDocument {
  copies: Array<{
    destination: string;
    job: { id: string };
    state: 'waiting' | 'completed' | 'failed';
    result: CopyJobResult | null;
    failure: JobFailure | null;
  }>;
}

interface CopyOptions {
  destination?: string;
  wait?: boolean;
}

export async function copyCommand(ctx: CliContext, backupId: string, options: CopyOptions): Promise<number> {
  const config = ctx.config({ requireTargets: false });
  const entry = await resolveBackup(config.backupDir, backupId);
  const target = config.targets.find((t) => t.name === entry.manifest.target);
  const names =
    options.destination !== undefined
      ? [options.destination]
      : (target?.destinations ?? config.destinations.map((d) => d.name));
  for (const name of names) {
    if (!config.destinations.some((d) => d.name === name)) {
      const known = config.destinations.map((d) => d.name).join(', ') || '(none configured)';
      throw new BackupError('DESTINATION_UNKNOWN', `no destination named ${name}; configured: ${known}`);
    }
  }
  if (names.length === 0) throw new BackupError('DESTINATION_UNKNOWN', 'no destination is configured');
  const queue = await ctx.queue();
  const document: CopyDocument = { copies: [] };
  let failed = false;
  for (const name of names) {
    // A fresh id: a manual copy runs even when the chain's copy job of this backup is kept.
    const job = await enqueueCopy(
      queue,
      { backupId, destination: name, origin: 'manual' },
      { jobId: `copy-manual-${backupId}-${name}-${Date.now()}` },
    );
    await ctx.confirmReplicated();
    ctx.out.text(`copy job ${job.id} for ${backupId} to ${name}: enqueued`);
    if (!options.wait) {
      document.copies.push({
        destination: name,
        job: { id: job.id! },
        state: 'waiting',
        result: null,
        failure: null,
      });
      continue;
    }
    const outcome = await followOneJob(queue, job.id!, await ctx.redis());
    if (outcome.state === 'failed') {
      failed = true;
      const failure = failureOf(job.id!, 'copy', outcome.job.failedReason);
      ctx.out.text(`FAILED  ${backupId} to ${name}: ${outcome.job.failedReason}`);
      document.copies.push({
        destination: name,
        job: { id: job.id! },
        state: 'failed',
        result: null,
        failure,
      });
      continue;
    }
    const result = parseJobResult('copy', outcome.job.id, outcome.job.returnvalue);
    ctx.out.text(`OK  ${backupId}  in ${name} as ${result.key} (${humanDuration(result.durationMs)})`);
    document.copies.push({
      destination: name,
      job: { id: job.id! },
      state: 'completed',
      result,
      failure: null,
    });
  }
  ctx.out.document(document);
  return failed ? exitCodes.failed : exitCodes.ok;
}
