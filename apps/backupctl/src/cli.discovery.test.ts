import { jobNames, readDiscovery } from '@pgbackup/queue';
import { type ServerTargetFixture, serverTargetFixture, type WorkerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PruneDocument } from './commands/prune.js';
import type { SchedulesDocument } from './commands/schedules.js';
import type { StatusDocument } from './commands/status.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// `schedules` and `status` show what a server target discovered, whichever process discovered it.

let serverTarget: ServerTargetFixture;
let fixture: WorkerFixture;

beforeAll(async () => {
  serverTarget = await serverTargetFixture(['shop', 'crm']);
  fixture = serverTarget.fixture;
}, 120_000);

afterAll(async () => {
  await serverTarget?.cleanup();
});

it('schedules and status list the discovered databases under their server', async () => {
  const service = await fixture.start();
  await expect
    .poll(
      async () =>
        (await readDiscovery(service.context.redis, fixture.config.redis.prefix, 'srv')).present.length,
      {
        timeout: 30_000,
      },
    )
    .toBe(2);

  const schedules = jsonOf<SchedulesDocument>(await runCli(fixture.env, ['schedules', '--json']));
  expect(schedules.schedules.map((row) => [row.target, row.server ?? null, row.scheduler !== null])).toEqual([
    ['srv', null, true],
    ['srv.globals', 'srv', true],
    ['srv.crm', 'srv', true],
    ['srv.shop', 'srv', true],
  ]);

  // Before any run: the databases are new (missing, in grace), the server is not a row of its own.
  let status = jsonOf<StatusDocument>(await runCli(fixture.env, ['status', '--json']));
  expect(status.targets.map((row) => [row.target, row.state])).toEqual([
    ['srv.globals', 'missing'],
    ['srv.crm', 'missing'],
    ['srv.shop', 'missing'],
  ]);
  expect(status.servers).toEqual([
    { server: 'srv', databases: ['srv.crm', 'srv.shop'], vanished: [], failing: false, failingJob: null },
  ]);

  const job = await fixture.queue.add(jobNames.discover, { server: 'srv', origin: 'schedule' });
  expect(await fixture.finished(job, 120_000)).toBe('completed');
  for (const target of ['srv.globals', 'srv.crm', 'srv.shop'])
    await expect.poll(() => fixture.verifiedBackups(target), { timeout: 120_000 }).toHaveLength(1);
  const result = await runCli(fixture.env, ['status', '--json']);
  status = jsonOf<StatusDocument>(result);
  expect(result.code).toBe(0);
  expect(status.targets.map((row) => [row.target, row.state])).toEqual([
    ['srv.globals', 'ok'],
    ['srv.crm', 'ok'],
    ['srv.shop', 'ok'],
  ]);
  const text = await runCli(fixture.env, ['status']);
  expect(text.stdout).toContain('srv: server: 2 database(s) backed up at every run');

  // prune knows the discovered databases: by name, through their server, and by default.
  const one = await runCli(fixture.env, ['prune', '--dry-run', '--target', 'srv.shop', '--json']);
  expect(one.code, one.stderr).toBe(0);
  expect(jsonOf<PruneDocument>(one).results.map((r) => [r.target, r.kept])).toEqual([['srv.shop', 1]]);
  const server = jsonOf<PruneDocument>(
    await runCli(fixture.env, ['prune', '--dry-run', '--target', 'srv', '--json']),
  );
  expect(server.results.map((r) => r.target)).toEqual(['srv.globals', 'srv.crm', 'srv.shop']);
  const all = jsonOf<PruneDocument>(await runCli(fixture.env, ['prune', '--dry-run', '--json']));
  expect(all.results.map((r) => r.target)).toEqual(['srv.globals', 'srv.crm', 'srv.shop']);
  const typo = await runCli(fixture.env, ['prune', '--dry-run', '--target', 'srv.shp']);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toMatch(/TARGET_UNKNOWN: Unknown target "srv\.shp"\. Did you mean "srv\.shop"\?/);
}, 300_000);
