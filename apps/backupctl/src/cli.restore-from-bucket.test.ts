import fs from 'node:fs/promises';
import path from 'node:path';
import { connect, listBackups } from '@pgbackup/backup-core';
import { RemoteStore } from '@pgbackup/backup-core/offsite';
import { freePort, type TestDatabase } from '@pgbackup/testkit';
import { type OffsiteFixture, offsiteFixture, type WorkerFixture } from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestoreDocument } from './commands/restore.js';
import { copiedBackup } from './test-support/copied-backup.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// The backup host is gone: its backup directory is deleted, and `backupctl restore --from s3`
// restores from the bucket alone, in this process (--direct, Redis down) and as a worker's job.
// A remote object changed after the copy is refused before anything is restored.
let offsite: OffsiteFixture;
let fixture: WorkerFixture;
let db: TestDatabase;
let store: RemoteStore;
let backupId: string;

const tables = ['orders', 'customers'];

/** Each table's row count and an order-independent digest of its rows. */
async function contents(database: string): Promise<Record<string, string>> {
  const client = await connect({ ...fixture.config.targets[0]!.connection, database });
  try {
    const out: Record<string, string> = {};
    for (const table of tables) {
      const { rows } = await client.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(string_agg(t::text, ',' ORDER BY t::text)) AS digest FROM ${table} t`,
      );
      out[table] = `${rows[0]!.n} ${rows[0]!.digest}`;
    }
    return out;
  } finally {
    await client.end();
  }
}

async function databaseExists(database: string): Promise<boolean> {
  const client = await connect({ ...fixture.config.targets[0]!.connection, database: 'postgres' });
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    return rows.length === 1;
  } finally {
    await client.end();
  }
}

async function tmpAreaFiles(): Promise<string[]> {
  return fs.readdir(path.join(fixture.config.backupDir, '.tmp')).catch(() => []);
}

beforeAll(async () => {
  offsite = await offsiteFixture(
    'from_bucket',
    { BACKUP_S3_PREFIX: 'host-gone' },
    "CREATE TABLE customers AS SELECT g AS id, 'customer ' || g AS name FROM generate_series(1, 500) g; " +
      'CREATE TABLE orders AS SELECT g AS id, g % 500 + 1 AS customer, (g * 7 % 1000)::numeric / 10 AS amount FROM generate_series(1, 5000) g',
  );
  ({ fixture, db } = offsite);
  store = new RemoteStore(fixture.config.destinations[0]!);
  await fixture.start();
  backupId = await copiedBackup(fixture);
  // The host is gone: nothing of the backup is left on this disk.
  await fs.rm(fixture.config.backupDir, { recursive: true, force: true });
}, 240_000);

afterAll(async () => {
  store?.close();
  await offsite?.cleanup();
});

describe('backupctl restore --from: the backup host is gone, the bucket is enough', () => {
  it('--direct with Redis down: downloaded, checked, restored identical table by table; nothing left in the tmp area or the catalog', async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const result = await runCli({ ...fixture.env, REDIS_URL: deadRedis }, [
      'restore',
      backupId,
      '--to',
      'shop_from_bucket',
      '--from',
      's3',
      '--direct',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const document = jsonOf<RestoreDocument>(result);
    expect(document).toMatchObject({ mode: 'direct', state: 'completed' });
    expect(await contents('shop_from_bucket')).toEqual(await contents(db.name));
    expect(await tmpAreaFiles()).toEqual([]);
    expect((await listBackups(fixture.config.backupDir)).entries).toEqual([]);
  });

  it('as a worker job (--wait): the worker, which has no file either, restores from the bucket', async () => {
    const result = await runCli(fixture.env, [
      'restore',
      backupId,
      '--to',
      'shop_from_bucket_job',
      '--from',
      's3',
      '--wait',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf<RestoreDocument>(result)).toMatchObject({ mode: 'queue', state: 'completed' });
    expect(await contents('shop_from_bucket_job')).toEqual(await contents(db.name));
    expect(await tmpAreaFiles()).toEqual([]);
  });

  it('an unknown destination or a backup the bucket does not hold: exit 2, naming what exists', async () => {
    const unknown = await runCli(fixture.env, [
      'restore',
      backupId,
      '--to',
      'x1',
      '--from',
      'nas',
      '--direct',
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('DESTINATION_UNKNOWN: no destination named nas; configured: s3');
    const missing = backupId.replace(/-[0-9a-f]{6}$/, '-000000');
    const absent = await runCli(fixture.env, ['restore', missing, '--to', 'x1', '--from', 's3', '--direct']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toContain(
      `BACKUP_NOT_FOUND: no backup ${missing} in destination s3 (bucket backups`,
    );
  });

  it('a remote object changed after the copy is refused with CHECKSUM_MISMATCH (or SIZE_MISMATCH when cut), before anything is restored', async () => {
    const remote = await store.find(backupId);
    const file = offsite.s3.objectFile('backups', remote.dataKey);
    const original = await fs.readFile(file);
    try {
      const flipped = Buffer.from(original);
      flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
      await fs.writeFile(file, flipped);
      const tampered = await runCli(fixture.env, [
        'restore',
        backupId,
        '--to',
        'shop_tampered',
        '--from',
        's3',
        '--direct',
      ]);
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toContain(
        `CHECKSUM_MISMATCH: destination s3 (bucket backups at ${offsite.s3.endpoint}): ${remote.dataKey} has SHA-256`,
      );
      expect(tampered.stderr).toContain('the object changed after it was copied');

      await fs.writeFile(file, original.subarray(0, original.length - 100));
      const cut = await runCli(fixture.env, [
        'restore',
        backupId,
        '--to',
        'shop_tampered',
        '--from',
        's3',
        '--direct',
      ]);
      expect(cut.code).toBe(1);
      expect(cut.stderr).toContain('SIZE_MISMATCH: destination s3');
      expect(await databaseExists('shop_tampered')).toBe(false);
      expect(await tmpAreaFiles()).toEqual([]);
    } finally {
      await fs.writeFile(file, original);
    }
  });
});
