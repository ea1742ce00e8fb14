import { type DrillJobResult, drillDeduplicationId, enqueueDrill, parseJobResult } from '@pgbackup/queue';
import { failureOf, type JobFailure } from '../chain.js';
import type { CliContext } from '../context.js';
import { CliError, exitCodes } from '../exit-codes.js';
import { followOneJob } from '../follow.js';
import { humanDuration } from '../output.js';
import { chooseTarget } from '../resolve.js';

/** `drill --json`: the jobs enqueued (or joined) and, with --wait, how each ended. */
export interface DrillDocument {
  jobs: Array<{ id: string; target: string; joined: boolean }>;
  results: Array<{
    target: string;
    state: 'completed' | 'failed';
    result: DrillJobResult | null;
    failure: JobFailure | null;
  }>;
}

interface DrillOptions {
  target?: string;
  all?: boolean;
  wait?: boolean;
}

export async function drillCommand(ctx: CliContext, options: DrillOptions): Promise<number> {
  const config = ctx.config();
  if (options.all && options.target !== undefined) {
    throw new CliError('USAGE', '--target and --all exclude each other', exitCodes.usage);
  }
  const targets = options.all
    ? config.targets.filter((target) => target.drill.server !== undefined)
    : [chooseTarget(config, options.target)];
  const missing = targets.filter((target) => target.drill.server === undefined);
  if (targets.length === 0 || missing.length > 0) {
    throw new CliError(
      'DRILL_SERVER_MISSING',
      `${missing.length > 0 ? `target ${missing.map((t) => t.name).join(', ')} has` : 'no target has'} no drill server`,
      exitCodes.usage,
      'set BACKUP_DRILL_DATABASE_URL (a server of its own, for example postgresql://postgres@drills:5432/postgres), or drill: in the target’s BACKUP_CONFIG entry',
    );
  }
  const queue = await ctx.queue();
  const jobs: DrillDocument['jobs'] = [];
  for (const target of targets) {
    const pending = await queue.getDeduplicationJobId(drillDeduplicationId(target.name));
    const job = await enqueueDrill(queue, { target: target.name, origin: 'manual' });
    const joined = pending !== null && pending === job.id;
    jobs.push({ id: job.id!, target: target.name, joined });
    ctx.out.text(
      joined
        ? `drill job ${job.id} for ${target.name}: joined the drill already waiting or running`
        : `drill job ${job.id} for ${target.name}: enqueued`,
    );
  }
  await ctx.confirmReplicated();
  if (!options.wait) {
    ctx.out.document({ jobs, results: [] } satisfies DrillDocument);
    ctx.out.note('Follow with `backupctl jobs` or re-run with --wait.');
    return exitCodes.ok;
  }
  const results: DrillDocument['results'] = [];
  for (const job of jobs) {
    const outcome = await followOneJob(queue, job.id, await ctx.redis());
    if (outcome.state === 'failed') {
      const failure = failureOf(job.id, 'drill', outcome.job.failedReason);
      ctx.out.text(`FAILED  ${job.target}: ${failure.reason}`);
      if (ctx.json) ctx.out.note(`backupctl: drill of ${job.target} failed: ${failure.reason}`);
      results.push({ target: job.target, state: 'failed', result: null, failure });
      continue;
    }
    const result = parseJobResult('drill', outcome.job.id, outcome.job.returnvalue);
    ctx.out.text(
      `OK  ${job.target}  ${result.backupId} restored on ${result.server}${result.walLevel ? ` (wal_level ${result.walLevel})` : ''} in ${humanDuration(result.restoreMs)} (RTO${result.destination ? `, downloaded from ${result.destination} in ${humanDuration(result.downloadMs ?? 0)}` : ''}), backup age ${humanDuration(result.backupAgeMs)} (RPO)${result.globalsBackupId ? `, after globals ${result.globalsBackupId}` : ''}${result.rtoExceeded ? '  RTO above BACKUP_DRILL_MAX_RTO' : ''}`,
    );
    for (const note of result.notes ?? []) ctx.out.text(`    note: ${note}`);
    results.push({ target: job.target, state: 'completed', result, failure: null });
  }
  ctx.out.document({ jobs, results } satisfies DrillDocument);
  return results.every((r) => r.state === 'completed') ? exitCodes.ok : exitCodes.failed;
}
