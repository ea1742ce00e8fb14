import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express, RequestHandler } from 'express';
import { principalOf } from './auth/basic-auth.js';
import type { DashboardPaths } from './paths.js';

function board(queue: Queue, paths: DashboardPaths, readOnlyMode: boolean): RequestHandler {
  // The base path is the public one (base path included): the board's page uses it as <base href>.
  const serverAdapter = new ExpressAdapter().setBasePath(paths.board);
  createBullBoard({
    serverAdapter,
    queues: [new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, displayName: 'Backups' })],
    options: {
      uiConfig: {
        boardTitle: 'Backups',
        miscLinks: [
          { text: 'Backup catalog', url: paths.backups },
          { text: 'Metrics', url: paths.metrics },
        ],
      },
    },
  });
  // The adapter's router is an Express app of its own, which would announce X-Powered-By again.
  const router = serverAdapter.getRouter() as Express;
  router.disable('x-powered-by');
  return router;
}

/**
 * Bull Board, one instance per role on the same queue. Viewers get a read-only board, which hides
 * the retry, clean and promote buttons they could not use anyway; the refusal itself is
 * operatorOnlyForChanges (403) in front of both, so it holds whatever the board does.
 */
export function bullBoard(queue: Queue, paths: DashboardPaths): RequestHandler {
  const operatorBoard = board(queue, paths, false);
  const viewerBoard = board(queue, paths, true);
  return (req, res, next) =>
    (principalOf(res).role === 'operator' ? operatorBoard : viewerBoard)(req, res, next);
}
