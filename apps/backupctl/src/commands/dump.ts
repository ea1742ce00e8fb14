import { globalsTargetName } from '@pgbackup/backup-core';
import {
  discoverDeduplicationId,
  dumpDeduplicationId,
  enqueueDiscover,
  enqueueDump,
  parseJobResult,
} from '@pgbackup/queue';
import type { Queue } from 'bullmq';
import {
  type ChainResult,
  describeChain,
  failureOf,
  followDumpChain,
  followGlobalsChain,
  type JobFailure,
} from '../chain.js';
import { chainRecord } from '../chain-record.js';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { type FollowOptions, followJob, interruptSignal } from '../follow.js';
import { createProgress } from '../progress.js';
import { chooseTarget } from '../resolve.js';

/**
 * `dump --json`: the jobs enqueued (or joined) and, with --wait, each target's chain. A server
 * target's job is its `discover` run; with --wait its databases' chains and its globals' are in
 * `results` (one each), and `servers` says what the run found.
 */
export interface DumpDocument {
  jobs: Array<{ id: string; target: string; joined: boolean; kind?: 'dump' | 'discover' }>;
  results: ChainResult[];
  servers?: ServerRun[];
}

/** What a server target's run found, for `dump --target <server> --wait`. */
export interface ServerRun {
  server: string;
  discoverJobId: string;
  databases: Array<{ database: string; target: string; dumpJobId: string }>;
  skipped: Array<{ database: string; reason: string }>;
  globalsBackupId: string | null;
  failure: JobFailure | null;
}

interface DumpOptions {
  target?: string;
  all?: boolean;
  wait?: boolean;
}

export async function dumpCommand(ctx: CliContext, options: DumpOptions): Promise<number> {
  const config = ctx.config();
  if (options.all && options.target !== undefined) {
    throw new CliError('USAGE', '--target and --all exclude each other', exitCodes.usage);
  }
  const targets = options.all ? config.targets : [chooseTarget(config, options.target)];
  const queue = await ctx.queue();
  const jobs: DumpDocument['jobs'] = [];
  for (const target of targets) {
    if (target.discover) {
      // A server target: the run its schedule makes (discovery, a dump per database, globals).
      const pending = await queue.getDeduplicationJobId(discoverDeduplicationId(target.name));
      const job = await enqueueDiscover(queue, { server: target.name, origin: 'manual' });
      const joined = pending !== null && pending === job.id;
      jobs.push({ id: job.id!, target: target.name, joined, kind: 'discover' });
      ctx.out.text(
        `${joined ? 'joined the run of' : 'run of'} server ${target.name}: discover job ${job.id} (a dump of each of its databases and its globals follow)`,
      );
      continue;
    }
    // A manual dump joins one already waiting or running for the target (see enqueueDump).
    const pending = await queue.getDeduplicationJobId(dumpDeduplicationId(target.name));
    const job = await enqueueDump(queue, { target: target.name, origin: 'manual' });
    const joined = pending !== null && pending === job.id;
    jobs.push({ id: job.id!, target: target.name, joined });
    ctx.out.text(
      joined
        ? `dump job ${job.id} for ${target.name}: joined the dump already waiting or running`
        : `dump job ${job.id} for ${target.name}: enqueued`,
    );
  }
  await ctx.confirmReplicated();
  if (!options.wait) {
    ctx.out.document({ jobs, results: [] } satisfies DumpDocument);
    ctx.out.note(
      'Verify and prune follow automatically. Follow with `backupctl jobs` or re-run with --wait.',
    );
    return exitCodes.ok;
  }

  const interrupt = interruptSignal();
  const progress = createProgress(process.stderr);
  const results: ChainResult[] = [];
  const servers: ServerRun[] = [];
  const follow = {
    progress,
    signal: interrupt.signal,
    redis: await ctx.redis(),
    record: chainRecord(ctx.config()),
  };
  const report = (result: ChainResult) => {
    results.push(result);
    ctx.out.text(describeChain(result));
    if (ctx.json && result.failure)
      ctx.out.note(`backupctl: ${result.failure.name} of ${result.target} failed: ${result.failure.reason}`);
  };
  try {
    for (const job of jobs) {
      if (job.kind === 'discover') {
        servers.push(await followServerRun(queue, job.id, job.target, follow, report, ctx));
        continue;
      }
      report(await followDumpChain(queue, job.id, job.target, follow));
    }
  } finally {
    interrupt.dispose();
  }
  ctx.out.document({ jobs, results, ...(servers.length > 0 ? { servers } : {}) } satisfies DumpDocument);
  return servers.every((server) => server.failure === null) &&
    results.every((result) => result.ok && result.copyFailures.length === 0)
    ? exitCodes.ok
    : exitCodes.failed;
}

/**
 * Follows a server target's run: its discover job, then every database's dump chain and the
 * globals' verify chain, one line each (`report`). A run that failed before enqueueing anything
 * (the server unreachable) is one FAILED line naming the server.
 */
async function followServerRun(
  queue: Queue,
  jobId: string,
  server: string,
  follow: FollowOptions,
  report: (result: ChainResult) => void,
  ctx: CliContext,
): Promise<ServerRun> {
  const run: ServerRun = {
    server,
    discoverJobId: jobId,
    databases: [],
    skipped: [],
    globalsBackupId: null,
    failure: null,
  };
  const outcome = await followJob(queue, jobId, follow);
  if (outcome.state === 'failed') {
    run.failure = failureOf(jobId, 'discover', outcome.job.failedReason);
    ctx.out.text(`FAILED  run of server ${server}: discover job ${jobId}: ${run.failure.reason}`);
    return run;
  }
  const found = parseJobResult('discover', outcome.job.id, outcome.job.returnvalue);
  run.databases = found.databases;
  run.skipped = found.skipped;
  run.globalsBackupId = found.globalsBackupId;
  ctx.out.text(
    `server ${server}: ${found.databases.length} database(s) discovered${found.skipped.length > 0 ? `, ${found.skipped.length} skipped (${found.skipped.map((skip) => skip.database).join(', ')})` : ''}`,
  );
  for (const database of found.databases)
    report(await followDumpChain(queue, database.dumpJobId, database.target, follow));
  if (found.globalsVerifyJobId)
    report(
      await followGlobalsChain(
        queue,
        jobId,
        found.globalsVerifyJobId,
        globalsTargetName(server),
        found.globalsBackupId,
        follow,
      ),
    );
  return run;
}
