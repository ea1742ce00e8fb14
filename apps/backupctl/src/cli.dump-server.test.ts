import { type ServerTargetFixture, serverTargetFixture, type WorkerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// `backupctl dump --target <server>` runs the server target now, as its schedule does (the same
// discover job): a dump of each database it has, and its globals; --wait follows all of them.

let serverTarget: ServerTargetFixture;
let fixture: WorkerFixture;

beforeAll(async () => {
  serverTarget = await serverTargetFixture(['shop', 'crm']);
  fixture = serverTarget.fixture;
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await serverTarget?.cleanup();
});

it('dump --target <server> --wait backs up every database of the server and its globals, one outcome each', async () => {
  // Created after the worker started: found by this run's discovery, not by the one at start.
  await serverTarget.server.query('postgres', 'CREATE DATABASE "late one"');
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
