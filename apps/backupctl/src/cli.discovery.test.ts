import { connect } from '@pgbackup/backup-core';
import { jobNames, readDiscovery } from '@pgbackup/queue';
import { PostgresServer, quoteIdent } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SchedulesDocument } from './commands/schedules.js';
import type { StatusDocument } from './commands/status.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// `schedules` and `status` show what a server target discovered, whichever process discovered it.

let server: PostgresServer;
let fixture: WorkerFixture;

async function sql(database: string, text: string): Promise<void> {
  const url = new URL(server.url());
  const client = await connect({ host: url.hostname, port: Number(url.port), user: 'postgres', database });
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  server = await PostgresServer.start();
  for (const name of ['shop', 'crm']) {
    await sql('postgres', `CREATE DATABASE ${quoteIdent(name)}`);
    await sql(name, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 20)');
  }
  fixture = await workerFixture({
    DATABASE_URL: server.url('postgres'),
    BACKUP_TARGET_NAME: 'srv',
    BACKUP_DISCOVER: 'all',
    BACKUP_SCHEDULE: '0 0 1 1 *',
  });
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await server?.destroy();
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
}, 300_000);
