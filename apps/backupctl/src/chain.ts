import { type Manifest, verificationState } from '@pgbackup/backup-core/catalog';
import {
  type CopyJobResult,
  completedJobsKeptNote,
  type DumpJobResult,
  failureCodeOf,
  type PruneJobResult,
  parseJobResult,
  type VerifyJobResult,
} from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import { type FollowOptions, type FollowOutcome, followJob, isJobGone } from './follow.js';
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
  /**
   * Set when the queue no longer held a finished job of the chain and its outcome was read from
   * the backup's manifest instead (FollowOptions.record): what the manifest says.
   */
  fromManifest?: { sizeBytes: number; level: string };
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
  let dump: FollowOutcome;
  try {
    dump = await followJob(queue, dumpJobId, options);
  } catch (error) {
    return concludeFromManifest(error, result, dumpJobId, options, async () =>
      options.record?.manifestOfDumpJob(target, dumpJobId),
    );
  }
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
  let verify: FollowOutcome;
  try {
    verify = await followJob(queue, verifyJobId, options);
  } catch (error) {
    const backupId = result.backupId;
    return concludeFromManifest(error, result, verifyJobId, options, async () =>
      backupId ? options.record?.manifestOf(backupId) : undefined,
    );
  }
  if (verify.state === 'failed') {
    result.failure = failureOf(verifyJobId, 'verify', verify.job.failedReason);
    return result;
  }
  result.verify = parseJobResult('verify', verify.job.id, verify.job.returnvalue);
  result.ok = true;
  options.progress.note(`verify ${target}: backup ${result.backupId} verified (${result.verify.level})`);
  let pruneJobId = result.verify.pruneJobId;
  for (const copyJobId of result.verify.copyJobIds ?? []) {
    const copy = await followJob(queue, copyJobId, options).catch((error: unknown) =>
      gone(error, copyJobId, options),
    );
    if (!copy) continue;
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
    const prune = await followJob(queue, pruneJobId, options).catch((error: unknown) =>
      gone(error, pruneJobId, options),
    );
    if (!prune) return result;
    if (prune.state === 'failed')
      result.pruneFailure = failureOf(pruneJobId, 'prune', prune.job.failedReason);
    else result.prune = parseJobResult('prune', prune.job.id, prune.job.returnvalue);
  }
  return result;
}

/**
 * A job of the chain that the queue no longer holds, when its backup's manifest shows the chain
 * got through: failed jobs are kept 90 days, completed ones only the newest 1,000, so a job gone
 * while being followed had completed, and the manifest says what it did. Anything else (no
 * manifest, a backup not verified) stays JOB_NOT_FOUND: no outcome is made up.
 */
async function concludeFromManifest(
  error: unknown,
  result: ChainResult,
  jobId: string,
  options: FollowOptions,
  read: () => Promise<Manifest | undefined>,
): Promise<ChainResult> {
  if (!isJobGone(error)) throw error;
  const manifest = await read();
  const state = manifest ? verificationState(manifest) : undefined;
  if (!manifest || state?.state !== 'verified') throw error;
  result.ok = true;
  result.backupId = manifest.id;
  result.fromManifest = { sizeBytes: manifest.sizeBytes, level: state.level };
  options.progress.note(
    `${result.target}: job ${jobId} is no longer in the queue (${completedJobsKeptNote}); backup ${manifest.id} is verified (${state.level}) by its manifest`,
  );
  return result;
}

/** A copy or prune job gone from the queue had completed (failed jobs are kept): noted, not a failure. */
function gone(error: unknown, jobId: string, options: FollowOptions): undefined {
  if (!isJobGone(error)) throw error;
  options.progress.note(
    `job ${jobId} completed and is no longer in the queue (${completedJobsKeptNote}): its result is not known here`,
  );
  return undefined;
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
  const size = result.dump?.sizeBytes ?? result.fromManifest?.sizeBytes ?? 0;
  const level = result.verify?.level ?? result.fromManifest?.level;
  const recorded = result.fromManifest ? ' (from its manifest)' : '';
  return `${result.copyFailures.length > 0 ? 'COPY FAILED' : 'OK'}  ${result.backupId}  ${result.target}  ${humanBytes(size)}  verified (${level})${recorded}${copies}${prune}`;
}
