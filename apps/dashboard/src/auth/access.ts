import { randomBytes } from 'node:crypto';
import type { DashboardSettings } from '../config/dashboard-section.js';
import { type Account, Accounts } from './accounts.js';

/** Where a dashboard without a configured password may listen: this machine only. */
export const loopbackHost = '127.0.0.1';

export interface DashboardAccess {
  accounts: Accounts;
  /** The address to listen on. */
  host: string;
  /** Set when no password was configured and one was made up for this run. */
  generated?: { user: string; password: string };
  /** Things the operator should know at start (a DASHBOARD_HOST that was overridden). */
  warnings: string[];
}

/**
 * Who may log in and where to listen. The dashboard never serves without authentication: with
 * no DASHBOARD_PASSWORD it makes up a random one for this run and listens on 127.0.0.1 only,
 * so a forgotten password cannot expose the queue's controls to the network.
 */
export function resolveAccess(dashboard: DashboardSettings): DashboardAccess {
  const warnings: string[] = [];
  let host = dashboard.host ?? loopbackHost;
  let operatorPassword = dashboard.password;
  let generated: DashboardAccess['generated'];
  if (operatorPassword === undefined) {
    // 144 random bits, URL-safe so it can be pasted into a URL or a shell unquoted.
    operatorPassword = randomBytes(18).toString('base64url');
    generated = { user: dashboard.user, password: operatorPassword };
    if (host !== loopbackHost) {
      warnings.push(
        `DASHBOARD_HOST=${host} is ignored: without DASHBOARD_PASSWORD (or DASHBOARD_PASSWORD_FILE) the dashboard listens on ${loopbackHost} only`,
      );
      host = loopbackHost;
    }
  }
  const accounts: Account[] = [{ user: dashboard.user, password: operatorPassword, role: 'operator' }];
  if (dashboard.viewerUser !== undefined && dashboard.viewerPassword !== undefined) {
    accounts.push({ user: dashboard.viewerUser, password: dashboard.viewerPassword, role: 'viewer' });
  }
  return { accounts: new Accounts(accounts), host, ...(generated ? { generated } : {}), warnings };
}
