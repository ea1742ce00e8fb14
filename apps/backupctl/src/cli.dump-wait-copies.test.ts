import { createTestDatabase, S3Server } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// dump --wait follows the whole chain: dump -> verify -> copy (one job per destination) -> prune.
// Exit 0 means verified and copied everywhere; a copy that fails for good is exit 1.
let s3: S3Server;
let fixture: WorkerFixture;

beforeAll(async () => {
  s3 = await S3Server.start({ buckets: ['backups'] });
  const db = await createTestDatabase('dump_wait_copies');
  await db.query('CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g');
  fixture = await workerFixture({
    DATABASE_URL: db.url,
    BACKUP_TARGET_NAME: 'shop',
    BACKUP_ATTEMPTS: '2',
    ...s3.destinationEnv(),
  });
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await fixture?.cleanup();
  await s3?.destroy();
});

describe('backupctl dump --wait with a destination', () => {
  it('follows the copy and the prune it starts: exit 0, the copy confirmed in the document', async () => {
    const result = await runCli(fixture.env, ['dump', '--wait', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const chain = jsonOf<DumpDocument>(result).results[0]!;
    expect(chain.ok).toBe(true);
    expect(chain.copyFailures).toEqual([]);
    expect(chain.copies).toEqual([
      expect.objectContaining({ backupId: chain.backupId, destination: 's3', bucket: 'backups' }),
    ]);
    expect(chain.prune).toMatchObject({ target: 'shop' });
    expect(result.stderr).toContain(`copy shop: backup ${chain.backupId} in s3 as shop/`);
    const text = await runCli(fixture.env, ['dump', '--wait']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^OK {2}\S+ {2}shop .* verified \(read\); copied to s3; prune kept/m);
  });

  it('a copy that fails for good (S3 down past the retries): exit 1, the backup still verified', async () => {
    await s3.kill();
    try {
      const result = await runCli(fixture.env, ['dump', '--wait', '--json']);
      expect(result.code, result.stderr).toBe(1);
      const chain = jsonOf<DumpDocument>(result).results[0]!;
      expect(chain.ok).toBe(true);
      expect(chain.copies).toEqual([]);
      expect(chain.copyFailures).toEqual([expect.objectContaining({ name: 'copy', code: 'S3_UNREACHABLE' })]);
      expect(chain.prune).toBeNull();
    } finally {
      await s3.restart();
    }
  });
});
