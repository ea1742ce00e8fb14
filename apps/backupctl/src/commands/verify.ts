import type { VerifyLevel } from '@pgbackup/backup-core';
import { enqueueVerify, parseJobResult, type VerifyJobResult } from '@pgbackup/queue';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { chooseDestination, remoteManifest } from '../destination.js';
import { exitCodes } from '../exit-codes.js';
import { followOneJob } from '../follow.js';
import { humanDuration } from '../output.js';
import { resolveBackup } from '../resolve.js';

/** `verify --json`. */
export interface VerifyDocument {
  job: { id: string };
  /** `waiting` without --wait. */
  state: 'waiting' | 'completed' | 'failed';
  result: VerifyJobResult | null;
  failure: JobFailure | null;
}

interface VerifyOptions {
  level?: VerifyLevel;
  wait?: boolean;
  destination?: string;
}

export async function verifyCommand(
  ctx: CliContext,
  backupId: string,
  options: VerifyOptions,
): Promise<number> {
  const config = ctx.config({ requireTargets: false });
  // A copy is checked from the bucket alone: no local file is needed, only its manifest object.
  if (options.destination !== undefined)
    await remoteManifest(chooseDestination(config, options.destination), backupId);
  else await resolveBackup(config.backupDir, backupId);
  const queue = await ctx.queue();
  // The worker's verify ids are deterministic (one per backup and level, for crash safety):
  // a manual check gets an id of its own, or it would return the finished chain verify.
  const level = options.level ?? 'default';
  const where = options.destination === undefined ? '' : `-${options.destination}`;
  const job = await enqueueVerify(
    queue,
    {
      backupId,
      ...(options.level ? { level: options.level } : {}),
      ...(options.destination === undefined ? {} : { destination: options.destination }),
      origin: 'manual',
    },
    { jobId: `verify-manual-${backupId}${where}-${level}-${Date.now()}` },
  );
  await ctx.confirmReplicated();
  ctx.out.text(
    `verify job ${job.id} for ${backupId}${options.destination === undefined ? '' : ` in ${options.destination}`}: enqueued (level ${options.level ?? "the target's default"})`,
  );
  if (!options.wait) {
    ctx.out.document({
      job: { id: job.id! },
      state: 'waiting',
      result: null,
      failure: null,
    } satisfies VerifyDocument);
    return exitCodes.ok;
  }
  const outcome = await followOneJob(queue, job.id!, await ctx.redis());
  if (outcome.state === 'failed') {
    const failure = failureOf(job.id!, 'verify', outcome.job.failedReason);
    ctx.out.text(`FAILED  ${backupId}: ${failure.reason}`);
    if (ctx.json) ctx.out.note(`backupctl: verify of ${backupId} failed: ${failure.reason}`);
    ctx.out.document({
      job: { id: job.id! },
      state: 'failed',
      result: null,
      failure,
    } satisfies VerifyDocument);
    return exitCodes.failed;
  }
  const result = parseJobResult('verify', outcome.job.id, outcome.job.returnvalue);
  const copy = result.destination === undefined ? '' : ` (the copy in ${result.destination})`;
  ctx.out.text(
    `OK  ${backupId}${copy}  verified at level ${result.level} in ${humanDuration(result.durationMs)}`,
  );
  for (const note of result.notes ?? []) ctx.out.text(`    note: ${note}`);
  ctx.out.document({
    job: { id: job.id! },
    state: 'completed',
    result,
    failure: null,
  } satisfies VerifyDocument);
  return exitCodes.ok;
}
