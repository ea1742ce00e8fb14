import { useCleanups } from '@pgbackup/testkit';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { startDashboard } from '../src/index.js';
import { testSetup } from './support/config.js';
import { request } from './support/http.js';

const onClose = useCleanups();

it('without a password, makes one up, announces it once with the user and listens on 127.0.0.1 only', async () => {
  const setup = testSetup({
    DASHBOARD_PASSWORD: undefined,
    DASHBOARD_VIEWER_USER: undefined,
    DASHBOARD_VIEWER_PASSWORD: undefined,
    DASHBOARD_USER: 'ops',
    DASHBOARD_HOST: '0.0.0.0',
  });
  onClose(() => setup.cleanup());
  expect(setup.config.dashboard.password).toBeUndefined();

  const announced: string[] = [];
  const logLines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => logLines.push(line) });
  const dashboard = await startDashboard(setup.config, { announce: (line) => announced.push(line), logger });
  onClose(() => dashboard.close());

  expect(dashboard.host).toBe('127.0.0.1');
  expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(logLines.some((line) => line.includes('DASHBOARD_HOST=0.0.0.0 is ignored'))).toBe(true);

  const password = dashboard.generatedPassword!;
  expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  expect(announced).toHaveLength(1);
  expect(announced[0]).toContain('"ops"');
  expect(announced[0]).toContain(password);

  // Never unauthenticated: the made-up password is required like a configured one.
  expect((await request(new URL('backups', dashboard.url).toString())).status).toBe(401);
  const ok = await request(new URL('backups', dashboard.url).toString(), { as: { user: 'ops', password } });
  expect(ok.status).toBe(200);
});

it('with a password, listens where DASHBOARD_HOST says and announces nothing', async () => {
  const setup = testSetup({ DASHBOARD_HOST: '127.0.0.1' });
  onClose(() => setup.cleanup());
  const announced: string[] = [];
  const dashboard = await startDashboard(setup.config, { announce: (line) => announced.push(line) });
  onClose(() => dashboard.close());
  expect(dashboard.generatedPassword).toBeUndefined();
  expect(announced).toEqual([]);
});
