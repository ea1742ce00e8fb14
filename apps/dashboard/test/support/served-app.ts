import type { AddressInfo } from 'node:net';
import { Accounts, createDashboardApp, type DashboardDeps } from '../../src/index.js';
import { operator, viewer } from './config.js';

/** The accounts of config.ts: `operator` as an operator, `viewer` as a viewer. */
export function testAccounts(): Accounts {
  return new Accounts([
    { ...operator, role: 'operator' },
    { ...viewer, role: 'viewer' },
  ]);
}

export interface ServedApp {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  base: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/**
 * The dashboard's app alone (no worker, no startDashboard) on a free loopback port: for tests
 * that read the pages and /metrics of a catalog and queue they made, often at a fixed clock.
 * The accounts default to testAccounts().
 */
export async function serveApp(
  deps: Omit<DashboardDeps, 'accounts'> & { accounts?: Accounts },
): Promise<ServedApp> {
  const listening = createDashboardApp({ ...deps, accounts: deps.accounts ?? testAccounts() }).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((resolve) => listening.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`,
    async close() {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
    },
  };
}
