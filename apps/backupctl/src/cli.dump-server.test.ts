import { connect } from '@pgbackup/backup-core';
import { PostgresServer, quoteIdent } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// `backupctl dump --target <server>` runs the server target now, as its schedule does (the same
// discover job): a dump of each database it has, and its globals; --wait follows all of them.

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
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await server?.destroy();
});

it('dump --target <server> --wait backs up every database of the server and its globals, one outcome each', async () => {
  // Created after the worker started: found by this run's discovery, not by the one at start.
  await sql('postgres', 'CREATE DATABASE "late one"');
  const result = await runCli(fixture.env, ['dump', '--target', 'srv', '--wait', '--json'], 300_000);
  expect(result.code, result.stderr).toBe(0);
  const document = jsonOf<DumpDocument>(result);
  expect(document.jobs).toEqual([expect.objectContaining({ target: 'srv', kind: 'discover' })]);
  expect(document.servers?.[0]).toMatchObject({ server: 'srv', failure: null });
  expect(document.servers?.[0]?.databases.map((d) => d.database).sort()).toEqual(['crm', 'late one', 'shop']);
  const outcomes = document.results.map((chain) => [chain.target, chain.ok]);
  expect(outcomes.slice(0, 3).sort()).toEqual(
    document.servers![0]!.databases.map((d) => [d.target, true]).sort(),
  );
  expect(outcomes.at(-1)).toEqual(['srv.globals', true]);
  for (const chain of document.results)
    expect(await fixture.verifiedBackups(chain.target)).toContain(chain.backupId);

  // Text mode: one line per database and one for the globals.
  const text = await runCli(fixture.env, ['dump', '--target', 'srv', '--wait'], 300_000);
  expect(text.code, text.stderr).toBe(0);
  const lines = text.stdout.split('\n');
  expect(lines).toContainEqual(expect.stringMatching(/^server srv: 3 database\(s\) discovered/));
  expect(lines.filter((line) => /^OK {2}\S+ {2}srv\.\S+ /.test(line))).toHaveLength(4);
}, 600_000);
