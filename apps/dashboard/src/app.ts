import {
  type BackupConfig,
  type Logger,
  silentLogger,
  type TargetConfig,
  targetNamePattern,
} from '@pgbackup/backup-core';
import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import { CsrfTokens } from './actions/csrf.js';
import type { Accounts } from './auth/accounts.js';
import { basicAuth, principalOf } from './auth/basic-auth.js';
import { FailureLimiter } from './auth/failure-limiter.js';
import { operatorOnlyForChanges, sameSiteChangesOnly } from './auth/roles.js';
import { bullBoard } from './bull-board.js';
import { dashboardCatalog } from './catalog.js';
import { targetStatuses } from './catalog-status.js';
import type { DashboardSettings } from './config/dashboard-section.js';
import { failuresOf, recentFailedJobs } from './failures.js';
import { healthz, readyz } from './health.js';
import { collectMetrics } from './metrics.js';
import { renderBackupsPage } from './pages/backups-page.js';
import { DashboardPaths } from './paths.js';
import { replayGuard } from './replay-guard.js';
import { securityHeaders } from './security-headers.js';
import { type ReplicatedActions, targetRoutes } from './target-routes.js';
import { withTimeout } from './timeout.js';

export interface DashboardDeps {
  config: Pick<BackupConfig, 'targets' | 'backupDir'> & {
    dashboard: Pick<DashboardSettings, 'basePath' | 'trustProxy'>;
    /** For the drill gauges (BACKUP_DRILL_MAX_RTO). */
    drill?: BackupConfig['drill'];
    /** Listed into the catalog when a target keeps backups only until copied (retention 0). */
    destinations?: BackupConfig['destinations'];
  };
  /** The backup queue (createBackupQueue); the caller owns it and closes it. */
  queue: Queue;
  /** For the health checks' PING; the caller owns it. */
  redis: Redis;
  accounts: Accounts;
  /** Default: 10 failed logins per client address and user name and minute, then 429 after 1 s. */
  limiter?: FailureLimiter;
  logger?: Logger;
  /** Clock for ages and staleness. Default: the real time. */
  now?: () => Date;
  /**
   * Since when workers have watched each target (the grace of new targets, see targetHealth).
   * Default: unknown, so a target without a verified backup counts as stale at once.
   */
  watchedSince?: () => Promise<Map<string, Date>>;
  /**
   * Every target as status and the worker's alerts see them: the configured ones, each server
   * target's globals and the databases it discovered (withDiscoveredTargets). Without it, or with
   * Redis away, the configured targets alone, and a discovered database shows as unmonitored.
   */
  knownTargets?: () => Promise<TargetConfig[]>;
  /** Signs the forms' tokens. Default: a random secret per process. */
  csrf?: CsrfTokens;
  /**
   * Behind Redis Sentinel: the queue the target actions enqueue on (a connection of its own) and
   * the replica check after each enqueue (target-routes.ts). Default: `queue`, no check.
   */
  actions?: ReplicatedActions;
}

/** Express 5 forwards rejected promises to the error handler; this only keeps the types honest. */
type AsyncHandler = (req: Request, res: Response) => Promise<void>;

/**
 * The whole dashboard as an Express app, not listening: tests drive it on port 0 and
 * startDashboard puts it on the configured address. Everything lives under the base path;
 * everything but /healthz and /readyz needs a login.
 */
export function createDashboardApp(deps: DashboardDeps): Express {
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const paths = new DashboardPaths(deps.config.dashboard.basePath);
  const limiter = deps.limiter ?? new FailureLimiter();
  const health = { redis: deps.redis, backupDir: deps.config.backupDir, logger };
  // Redis away must not take the page down with it: without the watch times, no grace is given.
  const watched = async () =>
    deps.watchedSince
      ? await withTimeout(deps.watchedSince(), 3_000, 'Redis').catch(() => undefined)
      : undefined;

  const targets = async (): Promise<TargetConfig[]> =>
    deps.knownTargets
      ? await withTimeout(deps.knownTargets(), 3_000, 'Redis').catch(() => deps.config.targets)
      : deps.config.targets;

  const app = express();
  app.disable('x-powered-by');
  // req.ip, which the failed-login limiter counts by, is the peer's address: X-Forwarded-For is
  // ignored, since anyone can send it, unless DASHBOARD_TRUST_PROXY names the proxies (or their
  // number) that set it. Express takes a hop count or a list of addresses and CIDR ranges as is.
  app.set('trust proxy', deps.config.dashboard.trustProxy ?? false);
  app.use(securityHeaders());

  const routes = express.Router();
  routes.get('/healthz', healthz(health));
  routes.get('/readyz', readyz(health));

  routes.use(basicAuth({ accounts: deps.accounts, limiter, realm: 'pg-backup-service dashboard' }));
  routes.use(sameSiteChangesOnly);
  routes.use(operatorOnlyForChanges);

  routes.get('/', (_req, res) => res.redirect(302, paths.backups));

  routes.get('/backups', (async (req, res) => {
    const target =
      typeof req.query.target === 'string' && req.query.target !== '' ? req.query.target : undefined;
    if (target !== undefined && !targetNamePattern.test(target)) {
      res.status(400).type('text/plain').send('target: expected a target name (letters, digits, _ . -)\n');
      return;
    }
    const pageNumber = req.query.page === undefined ? 1 : Number(req.query.page);
    if (!Number.isSafeInteger(pageNumber) || pageNumber < 1) {
      res
        .status(400)
        .type('text/plain')
        .send(
          `page: expected a whole number from 1 (1 is the newest backups); got ${JSON.stringify(String(req.query.page)).slice(0, 40)}\n`,
        );
      return;
    }
    const at = now();
    // Side by side: with Redis away, the two Redis reads each wait out their bound.
    const [all, known, since, failures] = await Promise.all([
      dashboardCatalog(deps.config),
      targets(),
      watched(),
      recentFailedJobs(deps.queue),
    ]);
    const page = renderBackupsPage({
      page: pageNumber,
      paths,
      principal: principalOf(res),
      now: at,
      statuses: targetStatuses(known, all.backups, at, since, failuresOf(failures)),
      catalog: target
        ? { ...all, backups: all.backups.filter((backup) => backup.manifest.target === target) }
        : all,
      target,
    });
    res.set('Cache-Control', 'no-store').type('html').send(page);
  }) satisfies AsyncHandler);

  routes.get('/metrics', (async (_req, res) => {
    const [watchedSince, known] = await Promise.all([watched(), targets()]);
    const { contentType, body } = await collectMetrics({
      config: deps.config,
      queue: deps.queue,
      logger,
      now,
      watchedSince,
      targets: known,
    });
    res.set('Cache-Control', 'no-store').type(contentType).send(body);
  }) satisfies AsyncHandler);

  routes.use(
    targetRoutes({
      config: deps.config,
      queue: deps.queue,
      paths,
      csrf: deps.csrf ?? new CsrfTokens(),
      now,
      watched,
      targets,
      actions: deps.actions,
    }),
  );

  // The guard first: the board would retry a restore or a completed job (see replay-guard.ts).
  routes.use('/queues', replayGuard(deps.queue), bullBoard(deps.queue, paths));

  app.use(paths.mount, routes);

  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('Not found.\n');
  });
  // Four arguments: Express's mark of an error handler. The details go to the log, not the page.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: error, method: req.method, path: req.path }, 'dashboard request failed');
    if (res.headersSent) return;
    res.status(500).type('text/plain').send('Internal error; see the dashboard log.\n');
  });
  return app;
}
