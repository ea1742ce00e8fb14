import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@pgbackup/testkit';
import {
  type OffsiteFixture,
  offsiteFixture,
  type WorkerFixture,
  writeVerifiedBackup,
} from '@pgbackup/worker/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupsDocument } from './commands/backups.js';
import type { StatusDocument } from './commands/status.js';
import { jsonOf, runCli } from './test-support/run-cli.js';

// status fails (COPY MISSING) when a verified backup older than the maximum age has no confirmed
// copy in a destination and no newer backup has one; and a worker whose local retention is 0
// judges its targets from the bucket, where its backups are.
let offsite: OffsiteFixture;
let fixture: WorkerFixture;
let older: string;
let newer: string;
const hour = 3_600_000;

beforeAll(async () => {
  offsite = await offsiteFixture('status_copies', { BACKUP_MAX_AGE: '2h' });
  fixture = offsite.fixture;
  older = (
    await writeVerifiedBackup(fixture.config.backupDir, {
      target: 'shop',
      createdAt: new Date(Date.now() - 3 * hour),
      bytes: 2048,
    })
  ).manifest.id;
  newer = (
    await writeVerifiedBackup(fixture.config.backupDir, {
      target: 'shop',
      createdAt: new Date(Date.now() - 60_000),
      bytes: 2048,
    })
  ).manifest.id;
  await fixture.start();
}, 120_000);

afterAll(async () => {
  await offsite?.cleanup();
});

describe('backupctl status and offsite copies', () => {
  it('a verified backup past the maximum age with no copy in s3, nor any newer one: exit 1, COPY MISSING', async () => {
    const result = await runCli(fixture.env, ['status', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const shop = jsonOf<StatusDocument>(result).targets[0]!;
    expect(shop).toMatchObject({ state: 'ok', stale: false, failing: false, ok: false });
    expect(shop.copies).toEqual([
      { destination: 's3', behind: true, uncopied: { id: older, createdAt: expect.any(String) } },
    ]);
    const text = await runCli(fixture.env, ['status']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/shop\s+COPY MISSING/);
    expect(text.stdout).toContain(`shop: COPY MISSING: s3 has no confirmed copy of backup ${older} (`);
    expect(text.stdout).toContain(`(copy it: backupctl copy ${older} --destination s3 --wait)`);
  });

  it('copy and backups --destination with a destination that is not configured: a usage error, exit 2', async () => {
    for (const args of [
      ['copy', newer, '--destination', 'nas'],
      ['backups', '--destination', 'nas'],
    ]) {
      const result = await runCli(fixture.env, args);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('DESTINATION_UNKNOWN: no destination named nas; configured: s3');
    }
  });

  it('once a newer backup is copied, s3 is not behind: exit 0', async () => {
    const copy = await runCli(fixture.env, ['copy', newer, '--wait']);
    expect(copy.code, copy.stderr).toBe(0);
    const result = await runCli(fixture.env, ['status', '--json']);
    expect(result.code, result.stdout).toBe(0);
    const shop = jsonOf<StatusDocument>(result).targets[0]!;
    expect(shop.ok).toBe(true);
    expect(shop.copies[0]).toMatchObject({ destination: 's3', behind: false, lastCopied: { id: newer } });
  });

  it('retention 0 on a host with an empty backup directory: status judges the bucket, where the backup is', async () => {
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-diskless-'));
    try {
      const result = await runCli({ ...fixture.env, BACKUP_DIR: emptyDir, BACKUP_RETENTION: '0' }, [
        'status',
        '--json',
      ]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const shop = jsonOf<StatusDocument>(result).targets[0]!;
      expect(shop.lastVerified?.id).toBe(newer);
      expect(shop.copies[0]).toMatchObject({ behind: false, lastCopied: { id: newer } });
      // Without retention 0 the same empty directory has nothing: the local catalog alone.
      const local = await runCli({ ...fixture.env, BACKUP_DIR: emptyDir }, ['status', '--json']);
      expect(jsonOf<StatusDocument>(local).targets[0]?.lastVerified).toBeNull();
    } finally {
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });

  it('retention 0: backups lists the bucket too (one catalog rule with status), and an unreachable bucket is INCOMPLETE, exit 1', async () => {
    const emptyDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-diskless-'));
    try {
      const env = { ...fixture.env, BACKUP_DIR: emptyDir, BACKUP_RETENTION: '0' };
      const result = await runCli(env, ['backups', '--json']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const doc = jsonOf<BackupsDocument>(result);
      expect(doc.source).toBe('union');
      expect(doc.destinations).toEqual([{ destination: 's3', ok: true, backups: 1 }]);
      expect(doc.backups.map((row) => [row.id, row.file, row.destinations])).toEqual([[newer, null, ['s3']]]);
      const text = await runCli(env, ['backups']);
      expect(text.stdout).toMatch(new RegExp(`${newer}.*\\ss3\\s*$`, 'm'));

      const away = { ...env, BACKUP_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` };
      const unreachable = await runCli(away, ['backups', '--json']);
      expect(unreachable.code, unreachable.stdout + unreachable.stderr).toBe(1);
      const awayDoc = jsonOf<BackupsDocument>(unreachable);
      expect(awayDoc.backups).toEqual([]);
      expect(awayDoc.destinations).toEqual([
        expect.objectContaining({ destination: 's3', ok: false, code: 'S3_UNREACHABLE' }),
      ]);
      const status = await runCli(away, ['status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(
        'catalog: INCOMPLETE: destination s3 could not be listed: S3_UNREACHABLE',
      );
    } finally {
      await fs.rm(emptyDir, { recursive: true, force: true });
    }
  });
});
