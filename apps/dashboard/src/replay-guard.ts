import { jobNames } from '@pgbackup/queue';
import type { Job, Queue } from 'bullmq';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/**
 * Bull Board's routes (@bull-board/api 9.10.1, dist/routes.js) that would run a job again or
 * change what it runs, relative to the board's mount. Registered on an Express router with the
 * same strings, so they match exactly what the board's own router matches (case, trailing slash,
 * decoding); bulk routes come first, as in the board's table.
 */
export const guardedRoutes = {
  retryAll: '/api/queues/:queueName/retry/:queueStatus',
  promoteAll: '/api/queues/:queueName/promote',
  /** Also the board's "Duplicate" button: the add form, filled with the job's name and data. */
  add: '/api/queues/:queueName/add',
  retryJob: '/api/queues/:queueName/:jobId/retry',
  promoteJob: '/api/queues/:queueName/:jobId/promote',
  updateData: '/api/queues/:queueName/:jobId/update-data',
  /** Setting a delayed job's run time to now is a promote by another name. */
  changeDelay: '/api/queues/:queueName/:jobId/delay',
} as const;

function refuse(res: Response, message: string): void {
  res.status(403).json({ error: 'forbidden', message });
}

const restoreRunsOnce =
  'a restore runs at most once: it replaces a database, and running it again would lose what was written since. ' +
  'To restore again, run a new `backupctl restore <backup-id> --to <database>`';

const completedStaysDone =
  'a completed job is not run again from the board: it would erase the result the catalog links to. ' +
  'Start a new run instead (`backupctl dump`, `backupctl verify`, `backupctl prune`)';

function isRestore(job: Pick<Job, 'name'>): boolean {
  return job.name === jobNames.restore;
}

/**
 * Refuses, for every account, the board's ways of replaying a restore (retry, promote, change
 * delay, edit data, add or duplicate one) and of re-running a completed job of any kind. Mounted
 * in front of Bull Board, since the board itself accepts all of these (its retry takes completed
 * jobs too). The bulk routes are answered here for the other jobs: "retry all failed" retries
 * every failed job but the restores, and "promote all" promotes every delayed job but the
 * restores, so one kept failed restore (90 days) does not disable the buttons. The worker refuses
 * a replayed restore as well (RESTORE_ALREADY_RAN): this guard is the clear answer, not the only one.
 */
export function replayGuard(queue: Queue): RequestHandler {
  const router = express.Router();
  const ours = (req: Request) => req.params.queueName === queue.name;
  // `next('router')` leaves this router for the board, so one request is never judged twice
  // (`/retry/retry` matches a bulk route and a job route).
  const pass = (next: NextFunction) => next('router');

  router.put(guardedRoutes.retryAll, async (req, res, next) => {
    const status = req.params.queueStatus;
    if (!ours(req) || (status !== 'failed' && status !== 'completed')) return pass(next);
    if (status === 'completed') return refuse(res, completedStaysDone);
    const failed = ((await queue.getJobs(['failed'], 0, -1)) as Array<Job | undefined>).filter(
      (job): job is Job => job?.id !== undefined,
    );
    const others = failed.filter((job) => !isRestore(job));
    // As the board's own handler: back to waiting, attempts left as they are.
    await Promise.all(others.map((job) => job.retry('failed')));
    const restores = failed.filter(isRestore).map((job) => job.id!);
    res.status(200).json({ retried: others.length, skipped: restores.length, skippedRestores: restores });
  });

  router.put(guardedRoutes.promoteAll, async (req, res, next) => {
    if (!ours(req)) return pass(next);
    const delayed = ((await queue.getJobs(['delayed'], 0, -1)) as Array<Job | undefined>).filter(
      (job): job is Job => job?.id !== undefined,
    );
    const others = delayed.filter((job) => !isRestore(job));
    await Promise.all(others.map((job) => job.promote()));
    const restores = delayed.filter(isRestore).map((job) => job.id!);
    res.status(200).json({ promoted: others.length, skipped: restores.length, skippedRestores: restores });
  });

  // Parsed here to read the job's name; the board's own parser then finds the body read and keeps it.
  router.post(guardedRoutes.add, express.json(), (req, res, next) => {
    const name = (req.body as { name?: unknown } | undefined)?.name;
    if (ours(req) && name === jobNames.restore) {
      return refuse(res, `${restoreRunsOnce}; the board does not add or duplicate restore jobs`);
    }
    pass(next);
  });

  const perJob =
    (action: string, refuseCompleted: boolean): RequestHandler =>
    async (req, res, next) => {
      const jobId = req.params.jobId;
      if (!ours(req) || typeof jobId !== 'string') return pass(next);
      const job = (await queue.getJob(jobId)) as Job | undefined;
      if (!job) return pass(next);
      if (isRestore(job))
        return refuse(
          res,
          `job ${jobId} is a restore, which the board does not ${action}: ${restoreRunsOnce}`,
        );
      if (refuseCompleted && (await job.getState()) === 'completed') {
        return refuse(res, `job ${jobId} (${job.name}) is completed: ${completedStaysDone}`);
      }
      pass(next);
    };
  router.put(guardedRoutes.retryJob, perJob('retry', true));
  router.put(guardedRoutes.promoteJob, perJob('promote', false));
  router.patch(guardedRoutes.updateData, perJob('edit', false));
  router.patch(guardedRoutes.changeDelay, perJob('reschedule', false));
  return router;
}
