import { type OffsiteFixture, offsiteFixture, type WorkerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DumpDocument } from './commands/dump.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// dump --wait follows the whole chain: dump -> verify -> copy (one job per destination) -> prune.
// Exit 0 means verified and copied everywhere; a copy that fails for good is exit 1.
let offsite: OffsiteFixture;
let fixture: WorkerFixture;

beforeAll(async () => {
  offsite = await offsiteFixture(
    'dump_wait_copies',
    { BACKUP_ATTEMPTS: '2' },
    'CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g',
  );
  fixture = offsite.fixture;
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await offsite?.cleanup();
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
    await offsite.s3.kill();
    try {
      const result = await runCli(fixture.env, ['dump', '--wait', '--json']);
      expect(result.code, result.stderr).toBe(1);
      const chain = jsonOf<DumpDocument>(result).results[0]!;
      expect(chain.ok).toBe(true);
      expect(chain.copies).toEqual([]);
      expect(chain.copyFailures).toEqual([expect.objectContaining({ name: 'copy', code: 'S3_UNREACHABLE' })]);
      expect(chain.prune).toBeNull();
    } finally {
      await offsite.s3.restart();
    }
  });
});
