import { QUEUE_NAME } from '@pgbackup/queue';

/**
 * Public URLs of the dashboard's pages. `basePath` is DASHBOARD_BASE_PATH as the config parsed
 * it (`/` or `/a/b`, never a trailing slash); a reverse proxy forwards the full path unchanged.
 */
export class DashboardPaths {
  /** '' for `/`, else the base path: every URL is `${prefix}/...`. */
  readonly prefix: string;

  constructor(basePath: string) {
    this.prefix = basePath === '/' ? '' : basePath.replace(/\/+$/, '');
  }

  get mount(): string {
    return this.prefix === '' ? '/' : this.prefix;
  }

  get backups(): string {
    return `${this.prefix}/backups`;
  }

  backupsOf(target: string): string {
    return `${this.backups}?target=${encodeURIComponent(target)}`;
  }

  /** One page of the catalog table (1 is the newest), of one target or of all. */
  backupsPage(target: string | undefined, page: number): string {
    const base = target === undefined ? this.backups : this.backupsOf(target);
    if (page === 1) return base;
    return `${base}${target === undefined ? '?' : '&'}page=${page}`;
  }

  /** The page of one target: its backups, copies, drills, failed jobs, charts and actions. */
  target(name: string): string {
    return `${this.prefix}/targets/${encodeURIComponent(name)}`;
  }

  /** Where the target page's "Back up now", "Verify now" and "Drill now" forms post. */
  targetAction(name: string, action: string): string {
    return `${this.target(name)}/actions/${encodeURIComponent(action)}`;
  }

  get board(): string {
    return `${this.prefix}/queues`;
  }

  get metrics(): string {
    return `${this.prefix}/metrics`;
  }

  /** Bull Board 9's page of one job: its client route `/queue/:queueName/:jobId`. */
  job(jobId: string): string {
    return `${this.board}/queue/${encodeURIComponent(QUEUE_NAME)}/${encodeURIComponent(jobId)}`;
  }

  /** Bull Board's list of a queue's jobs in one state (`?status=failed`). */
  jobsIn(state: string): string {
    return `${this.board}/queue/${encodeURIComponent(QUEUE_NAME)}?status=${encodeURIComponent(state)}`;
  }
}
