import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTestDatabase, type TestDatabase, waitFor } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ErrorDocument } from './action.js';
import { cliEntry, jsonOf, spawnCli } from './test-support/run-cli.js';

let fixture: WorkerFixture;
let db: TestDatabase;

beforeAll(async () => {
  // Large enough that the dump takes a while, as in worker.crash.test.ts.
  db = await createTestDatabase('cli_big');
  await db.query(
    `CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS v FROM generate_series(1, 800000) g`,
  );
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'big',
    BACKUP_VERIFY: 'checksum',
  });
  await fixture.start();
});

afterAll(async () => {
  await fixture?.cleanup();
});

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

it('dump --wait in a terminal redraws one progress bar in place', async () => {
  const session = `backupctl-test-${randomBytes(4).toString('hex')}`;
  const script = path.join(fixture.dir, 'dump-in-terminal.sh');
  const exports = Object.entries({ ...fixture.env, PATH: process.env.PATH ?? '' })
    .map(([key, value]) => `export ${key}=${shellQuote(value)}`)
    .join('\n');
  await writeFile(
    script,
    `${exports}\n${shellQuote(process.execPath)} ${shellQuote(cliEntry)} dump --wait\necho "exit=$?"\n`,
  );
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', `sh ${shellQuote(script)}; sleep 5`);
  let screen = '';
  try {
    await waitFor(
      'a progress bar and the end of the command',
      async () => {
        screen = tmux('capture-pane', '-p', '-t', session);
        return /exit=\d+/.test(screen) && /\[#+-*\]\s+\d+%/.test(screen);
      },
      120_000,
    );
  } finally {
    spawnSync('tmux', ['kill-session', '-t', session]);
  }
  const lines = screen.split('\n');
  expect(screen).toContain('exit=0');
  // The bar (phase, bar, percent, bytes) is one line redrawn in place, not one line per update.
  const bars = lines.filter((line) => /^dump big\s+\S+\s+\[[#-]{24}\]\s+\d+%/.test(line));
  expect(bars, screen).toHaveLength(1);
  expect(bars[0]).toMatch(/\[#{24}\]\s+100%\s+\d+(\.\d)? MiB/);
  expect(screen).toMatch(/^OK\s+\S+-big-[0-9a-f]{6}\s+big\s+.*verified \(checksum\)/m);
});

it('Ctrl-C stops waiting with exit 130 and says how to keep following; the job keeps running', async () => {
  const cli = spawnCli(fixture.env, ['dump', '--wait', '--json']);
  await waitFor('the CLI to follow the dump', async () => /^dump big/m.test(cli.stderr()), 60_000);
  cli.child.kill('SIGINT');
  const result = await cli.done;
  expect(result.code).toBe(130);
  expect(result.stderr).toMatch(
    /Stopped waiting\. Job \S+ goes on in the queue: Ctrl-C never cancels a job\. Follow it with `backupctl jobs --state active`/,
  );
  const { error } = jsonOf<ErrorDocument>(result);
  expect(error).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
  expect(await fixture.finished(error.jobId!, 120_000)).toBe('completed');
});
