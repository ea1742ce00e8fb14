import { type BackupConfig, type TargetConfig, targetNamePattern } from '@pgbackup/backup-core';
import { enqueueDrill, enqueueDump, enqueueVerify, targetOfJob } from '@pgbackup/queue';
import type { Job, Queue } from 'bullmq';
import express, { type Request, type Response, type Router } from 'express';
import { actionRefusal } from './actions/availability.js';
import type { CsrfTokens } from './actions/csrf.js';
import { type Principal, principalOf } from './auth/basic-auth.js';
import { dashboardCatalog, unlistedDestinations } from './catalog.js';
import { targetStatuses } from './catalog-status.js';
import { failuresOf, recentFailedJobs } from './failures.js';
import {
  type FailedJobView,
  renderTargetPage,
  type TargetAction,
  targetActions,
} from './pages/target-page.js';
import type { DashboardPaths } from './paths.js';

export interface TargetRoutesDeps {
  config: Pick<BackupConfig, 'targets' | 'backupDir'> & { destinations?: BackupConfig['destinations'] };
  queue: Queue;
  paths: DashboardPaths;
  csrf: CsrfTokens;
  now: () => Date;
  watched: () => Promise<Map<string, Date> | undefined>;
  /** The configured targets and the databases server targets discovered (DashboardDeps.knownTargets). */
  targets: () => Promise<TargetConfig[]>;
  /** Behind Sentinel: where the actions enqueue, and the replica check after each (DashboardDeps). */
  actions?: ReplicatedActions | undefined;
}

/**
 * Behind Redis Sentinel, the actions enqueue on a queue of their own connection, and then wait
 * (WAIT 1, at most 2 s) for a replica to hold what that connection wrote, as backupctl does
 * (confirmReplicated): replication is asynchronous, and a failover before the replica has the
 * job loses it although the primary acknowledged it. A connection of their own because WAIT
 * blocks its connection, and the health checks' PING (1 s timeout) must not wait behind it.
 */
export interface ReplicatedActions {
  queue: Queue;
  /** Replicas holding every write of `queue`'s connection so far (replicasConfirming). */
  replicasConfirming: () => Promise<number>;
}

/** The target's newest failed jobs the page lists. */
const FAILED_JOBS_SHOWN = 20;

type AsyncHandler = (req: Request, res: Response) => Promise<void>;

function isAction(name: string): name is TargetAction {
  return Object.hasOwn(targetActions, name);
}

function plain(res: Response, status: number, text: string): void {
  res.status(status).type('text/plain').send(`${text}\n`);
}

/**
 * A page per target (GET /targets/:name) and its three actions (POST
 * /targets/:name/actions/backup|verify|drill). The actions sit behind the same guards as every
 * change (viewers get 403, cross-site requests are refused by Sec-Fetch-Site) plus a form token.
 */
export function targetRoutes(deps: TargetRoutesDeps): Router {
  const router = express.Router();

  router.get('/targets/:name', (async (req, res) => {
    const name = String(req.params.name);
    if (!targetNamePattern.test(name)) {
      plain(res, 400, 'target: expected a target name (letters, digits, _ . -)');
      return;
    }
    const at = deps.now();
    const [all, known, since, failedJobs] = await Promise.all([
      dashboardCatalog(deps.config),
      deps.targets(),
      deps.watched(),
      recentFailedJobs(deps.queue),
    ]);
    const status = targetStatuses(known, all.backups, at, since, failuresOf(failedJobs)).find(
      (candidate) => candidate.target === name,
    );
    if (!status) {
      plain(res, 404, `no target named ${name} is configured or has backups`);
      return;
    }
    const principal = principalOf(res);
    const form = principal.role === 'operator' ? await formTokenOf(deps.csrf, principal) : undefined;
    const enqueued = typeof req.query.enqueued === 'string' ? req.query.enqueued : '';
    const job = typeof req.query.job === 'string' ? req.query.job.slice(0, 200) : '';
    res
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        renderTargetPage({
          paths: deps.paths,
          principal,
          now: at,
          status,
          manifests: all.backups.filter((entry) => entry.manifest.target === name).map((e) => e.manifest),
          unlisted: unlistedDestinations(all),
          failedJobs: failedJobs === null ? undefined : failedJobsOf(failedJobs, name),
          csrfToken: form?.token,
          actionsUnavailable: form?.unavailable,
          notice:
            isAction(enqueued) && job !== ''
              ? { action: enqueued, jobId: job, unreplicated: req.query.replica === 'unconfirmed' }
              : undefined,
        }),
      );
  }) satisfies AsyncHandler);

  router.post(
    '/targets/:name/actions/:action',
    express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 5 }),
    (async (req, res) => {
      const name = String(req.params.name);
      const action = String(req.params.action);
      let tokenMatches: boolean;
      try {
        tokenMatches = await deps.csrf.matches(
          principalOf(res),
          (req.body as Record<string, unknown> | undefined)?.csrf,
        );
      } catch {
        plain(
          res,
          503,
          'the queue (Redis) cannot be reached: nothing was enqueued; try again when it is back',
        );
        return;
      }
      if (!tokenMatches) {
        plain(res, 403, 'the form token is missing or stale: reload the target page and try again');
        return;
      }
      if (!isAction(action)) {
        plain(res, 404, `no action ${action}; expected one of ${Object.keys(targetActions).join(', ')}`);
        return;
      }
      const target = (await deps.targets()).find((candidate) => candidate.name === name);
      if (!target) {
        plain(res, 404, `no target named ${name} is configured`);
        return;
      }
      // A verify's own lack of a backup is answered below, with the catalog read for it.
      const refusal = actionRefusal(target, action, true);
      if (refusal) {
        plain(res, 409, `${targetActions[action]} is not available for ${name}: ${refusal}`);
        return;
      }
      const queue = deps.actions?.queue ?? deps.queue;
      let jobId: string | undefined;
      if (action === 'backup') {
        // Joins a dump of the target already waiting or running, as backupctl dump does.
        jobId = (await enqueueDump(queue, { target: name, origin: 'manual' })).id;
      } else if (action === 'verify') {
        // The newest backup the page shows: with retention 0 it may be in a bucket only, and is
        // then verified there (downloaded by the worker, the result in its manifest object).
        const newest = (await dashboardCatalog(deps.config, name)).backups[0];
        if (!newest) {
          plain(res, 409, `target ${name} has no backup to verify yet`);
          return;
        }
        const backupId = newest.manifest.id;
        const destination = newest.local ? undefined : newest.destinations[0];
        jobId = (
          await enqueueVerify(
            queue,
            { backupId, origin: 'manual', ...(destination === undefined ? {} : { destination }) },
            // The chain's verify ids are deterministic: a manual check gets one of its own.
            { jobId: `verify-manual-${backupId}-default-${Date.now()}` },
          )
        ).id;
      } else {
        jobId = (await enqueueDrill(queue, { target: name, origin: 'manual' })).id;
      }
      // A failed check counts as no confirmation: the warning is the safe side.
      const unreplicated =
        deps.actions !== undefined && (await deps.actions.replicasConfirming().catch(() => 0)) === 0;
      const back = new URLSearchParams({
        enqueued: action,
        job: jobId ?? '',
        ...(unreplicated ? { replica: 'unconfirmed' } : {}),
      });
      // 303: the browser follows with a GET, so a reload does not post again.
      res.redirect(303, `${deps.paths.target(name)}?${back.toString()}`);
    }) satisfies AsyncHandler,
  );
  return router;
}

/** The operator's form token, or why there is none (the secret is kept in Redis). */
async function formTokenOf(
  csrf: CsrfTokens,
  principal: Principal,
): Promise<{ token?: string; unavailable?: string }> {
  try {
    return { token: await csrf.tokenFor(principal) };
  } catch {
    return { unavailable: 'the queue (Redis) cannot be reached; reload this page when it is back.' };
  }
}

/** The target's newest failed jobs, from the page view's one read of them (recentFailedJobs). */
function failedJobsOf(jobs: readonly Job[], target: string): FailedJobView[] {
  return jobs
    .filter((job) => targetOfJob(job) === target)
    .slice(0, FAILED_JOBS_SHOWN)
    .map((job) => ({
      id: String(job.id),
      name: job.name,
      failedReason: (job.failedReason ?? '').slice(0, 500),
      finishedOn: job.finishedOn,
      attemptsMade: job.attemptsMade,
    }));
}
