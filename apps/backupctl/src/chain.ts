import {
  type CopyJobResult,
  type DumpJobResult,
  failureCodeOf,
  type PruneJobResult,
  parseJobResult,
  type VerifyJobResult,
} from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import { type FollowOptions, followJob } from './follow.js';
import { humanBytes, humanDuration } from './output.js';

/** A job that failed for good: `reason` is the worker's `CODE: message`. */
export interface JobFailure {
  jobId: string;
  name: string;
  reason: string;
  code: string | undefined;
}

/** What `dump --wait` (and `retry --wait` of a dump) reports for one target. */
export interface ChainResult {
  /** True when the backup was written and verified. */
  ok: boolean;
  target: string;
  dumpJobId: string;
  backupId: string | null;
  dump: DumpJobResult | null;
  verify: VerifyJobResult | null;
  /** The copies to the target's destinations (one job each), confirmed. */
  copies: CopyJobResult[];
  /** Copy jobs that failed for good: the backup is verified but not off-host everywhere (exit 1). */
  copyFailures: JobFailure[];
  /** The prune that follows a verified backup; a failed prune does not make the backup bad. */
  prune: PruneJobResult | null;
  failure: JobFailure | null;
  pruneFailure: JobFailure | null;
}

export function failureOf(jobId: string, name: string, reason: string | undefined): JobFailure {
  const text = reason || 'failed without a reason';
  return { jobId, name, reason: text, code: failureCodeOf(text) };
}

/**
 * Follows a dump job, then the verify job it enqueued, then its copy jobs (one per destination),
 * then the prune the verify (or the last confirmed copy) enqueued: the whole scheduled chain, so
 * "exit 0" means "a verified backup exists, and is copied to every destination".
 */
export async function followDumpChain(
  queue: Queue,
  dumpJobId: string,
  target: string,
  options: FollowOptions,
): Promise<ChainResult> {
  const result = unfollowedChain(target, dumpJobId, null);
  const dump = await followJob(queue, dumpJobId, options);
  if (dump.state === 'failed') {
    result.failure = failureOf(dumpJobId, 'dump', dump.job.failedReason);
    return result;
  }
  result.dump = parseJobResult('dump', dump.job.id, dump.job.returnvalue);
  result.backupId = result.dump.backupId;
  options.progress.note(
    `dump ${target}: backup ${result.dump.backupId} written (${humanBytes(result.dump.sizeBytes)} in ${humanDuration(result.dump.durationMs)}${result.dump.reused ? ', reused from an earlier attempt' : ''})`,
  );
  const verifyJobId = result.dump.verifyJobId;
  if (!verifyJobId) {
    result.failure = failureOf(dumpJobId, 'dump', 'VERIFY_MISSING: the dump enqueued no verify job');
    return result;
  }
  return followFromVerify(queue, verifyJobId, result, options);
}

/**
 * A server's globals backup, written by its discover job: followed from its verify job on, like
 * the rest of a dump's chain (copies, prune).
 */
export async function followGlobalsChain(
  queue: Queue,
  discoverJobId: string,
  verifyJobId: string,
  target: string,
  backupId: string,
  options: FollowOptions,
): Promise<ChainResult> {
  return followFromVerify(queue, verifyJobId, unfollowedChain(target, discoverJobId, backupId), options);
}

/** A chain's result before any of its jobs is followed: not ok, nothing known past `backupId`. */
function unfollowedChain(target: string, dumpJobId: string, backupId: string | null): ChainResult {
  return {
    ok: false,
    target,
    dumpJobId,
    backupId,
    dump: null,
    verify: null,
    copies: [],
    copyFailures: [],
    prune: null,
    failure: null,
    pruneFailure: null,
  };
}

async function followFromVerify(
  queue: Queue,
  verifyJobId: string,
  result: ChainResult,
  options: FollowOptions,
): Promise<ChainResult> {
  const { target } = result;
  const verify = await followJob(queue, verifyJobId, options);
  if (verify.state === 'failed') {
    result.failure = failureOf(verifyJobId, 'verify', verify.job.failedReason);
    return result;
  }
  result.verify = parseJobResult('verify', verify.job.id, verify.job.returnvalue);
  result.ok = true;
  options.progress.note(`verify ${target}: backup ${result.backupId} verified (${result.verify.level})`);
  let pruneJobId = result.verify.pruneJobId;
  for (const copyJobId of result.verify.copyJobIds ?? []) {
    const copy = await followJob(queue, copyJobId, options);
    if (copy.state === 'failed') {
      result.copyFailures.push(failureOf(copyJobId, 'copy', copy.job.failedReason));
      continue;
    }
    const copied = parseJobResult('copy', copy.job.id, copy.job.returnvalue);
    result.copies.push(copied);
    options.progress.note(
      `copy ${target}: backup ${result.backupId} in ${copied.destination} as ${copied.key} (confirmed)`,
    );
    // The last destination to confirm enqueues the prune (copy-job.ts).
    pruneJobId ??= copied.pruneJobId;
  }
  if (pruneJobId) {
    const prune = await followJob(queue, pruneJobId, options);
    if (prune.state === 'failed')
      result.pruneFailure = failureOf(pruneJobId, 'prune', prune.job.failedReason);
    else result.prune = parseJobResult('prune', prune.job.id, prune.job.returnvalue);
  }
  return result;
}

/** One line of stdout per target. */
export function describeChain(result: ChainResult): string {
  if (!result.ok) {
    const where = result.backupId
      ? `backup ${result.backupId} of ${result.target}`
      : `dump of ${result.target}`;
    return `FAILED  ${where}: ${result.failure?.name} job ${result.failure?.jobId}: ${result.failure?.reason}`;
  }
  const copies = [
    ...result.copies.map((copy) => `; copied to ${copy.destination}`),
    ...result.copyFailures.map((failure) => `; copy job ${failure.jobId} FAILED: ${failure.reason}`),
  ].join('');
  const prune = result.prune
    ? `; prune kept ${result.prune.kept}, deleted ${result.prune.deleted.length}`
    : result.pruneFailure
      ? `; prune FAILED: ${result.pruneFailure.reason}`
      : '';
  return `${result.copyFailures.length > 0 ? 'COPY FAILED' : 'OK'}  ${result.backupId}  ${result.target}  ${humanBytes(result.dump?.sizeBytes ?? 0)}  verified (${result.verify?.level})${copies}${prune}`;
}
