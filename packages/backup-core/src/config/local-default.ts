import { envTargetTriggers } from './env-target.js';
import type { Variables } from './variables.js';

/**
 * The target when nothing names one: the machine's own PostgreSQL `postgres` database. One rule for
 * the worker, backupctl and the dashboard (each passes `localDefault: true` to loadConfig), so
 * `npm start` and `backupctl status` in the same shell agree on what is backed up. Library callers
 * and tests do not get it: for them no target stays no target.
 */
export const localDefaultUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Whether the local default applies: nothing configures a target. */
export function usesLocalDefault(vars: Variables): boolean {
  return ['BACKUP_CONFIG', ...envTargetTriggers].every((name) => vars.get(name) === undefined);
}

/** What every process says when it runs on the local default, so nobody mistakes it for a deployment. */
export const localDefaultNotice =
  `no target is configured (DATABASE_URL, PGHOST/PGDATABASE, POSTGRES_HOST/POSTGRES_DB or BACKUP_CONFIG): ` +
  `the target is the local default ${localDefaultUrl}`;
