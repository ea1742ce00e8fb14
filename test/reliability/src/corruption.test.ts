import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  type BackupConfig,
  findBackup,
  isBackupError,
  newBackupId,
  parseBackupId,
  restoreBackup,
  type VerifyLevel,
  verificationState,
  verifyLevels,
  writeManifest,
} from '@pgbackup/backup-core';
import { enqueueDump, enqueueRestore, enqueueVerify } from '@pgbackup/queue';
import { createTestDatabase, harness, type TestDatabase } from '@pgbackup/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordResults } from './support/results.js';
import { createStack, failureCode, type Stack } from './support/stack.js';

let source: TestDatabase;
let keysDir: string;
const stacks: Stack[] = [];
const matrix: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  source = await createTestDatabase('corrupt');
  await source.query(`
    CREATE TABLE accounts (id int PRIMARY KEY, note text NOT NULL);
    INSERT INTO accounts SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
    CREATE TABLE audit AS SELECT g AS id, repeat('x', g % 50) AS what FROM generate_series(1, 5000) g;
  `);
  keysDir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-reliability-keys-'));
  await fs.writeFile(path.join(keysDir, 'a.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  await fs.writeFile(path.join(keysDir, 'b.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
});

afterAll(async () => {
  for (const stack of stacks) await stack.cleanup();
  await fs.rm(keysDir, { recursive: true, force: true });
  recordResults('corruption', { cases: matrix });
});

async function newStack(env: Record<string, string>): Promise<Stack> {
  const stack = await createStack({ DATABASE_URL: source.url, BACKUP_ATTEMPTS: '3', ...env });
  stacks.push(stack);
  await stack.start();
  return stack;
}

/** One backup through the worker, verified at `read` by the chain. */
async function pristineBackup(stack: Stack, target: string): Promise<string> {
  const job = await enqueueDump(stack.queue, { target }, { jobId: 'pristine' });
  const done = await stack.settle(job.id!);
  expect(await stack.queue.getJobState(job.id!), done.failedReason).toBe('completed');
  const backupId = (done.returnvalue as { backupId: string }).backupId;
  expect(await stack.finished(`verify-${backupId}-read`)).toBe('completed');
  return backupId;
}

let serial = 0;
/** A copy of a backup under a new id (file and manifest), for one case to damage. */
async function copyBackup(config: BackupConfig, id: string): Promise<string> {
  const entry = await findBackup(config.backupDir, id);
  const { target, createdAt } = parseBackupId(id);
  const copyId = newBackupId(target, createdAt, (0xa00000 + ++serial).toString(16));
  const file = `${copyId}${entry.manifest.file.slice(id.length)}`;
  await fs.copyFile(entry.filePath, path.join(path.dirname(entry.filePath), file));
  await writeManifest(config.backupDir, { ...entry.manifest, id: copyId, file, verifications: [] });
  return copyId;
}

type Damage = (config: BackupConfig, id: string) => Promise<void>;

const fileOf = async (config: BackupConfig, id: string) => (await findBackup(config.backupDir, id)).filePath;
const flipMiddleBit = async (file: string) => {
  const bytes = await fs.readFile(file);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x10;
  await fs.writeFile(file, bytes);
};

const damages: Record<string, Damage> = {
  truncated: async (config, id) => {
    const file = await fileOf(config, id);
    await fs.truncate(file, Math.floor((await fs.stat(file)).size / 2));
  },
  'bit-flipped': async (config, id) => flipMiddleBit(await fileOf(config, id)),
  // Bytes changed and the manifest made to agree (size and SHA-256): what an attacker with write
  // access to the backup directory could do. Only the layers under the checksum can tell.
  tampered: async (config, id) => {
    const entry = await findBackup(config.backupDir, id);
    await flipMiddleBit(entry.filePath);
    const bytes = await fs.readFile(entry.filePath);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writeManifest(config.backupDir, { ...entry.manifest, sha256, sizeBytes: bytes.length });
  },
  empty: async (config, id) => fs.truncate(await fileOf(config, id), 0),
};

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: harness().pgAdminUrl });
  await client.connect();
  try {
    return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

interface Variant {
  label: string;
  target: string;
  encrypted: boolean;
  cases: Array<{ name: keyof typeof damages; code: string }>;
}

const variants: Variant[] = [
  {
    label: 'zstd, not encrypted',
    target: 'plain',
    encrypted: false,
    cases: [
      { name: 'truncated', code: 'SIZE_MISMATCH' },
      { name: 'bit-flipped', code: 'CHECKSUM_MISMATCH' },
      { name: 'tampered', code: 'COMPRESSED_STREAM_CORRUPT' },
      { name: 'empty', code: 'BACKUP_FILE_EMPTY' },
    ],
  },
  {
    label: 'zstd, encrypted (AES-256-GCM chunks)',
    target: 'sealed',
    encrypted: true,
    cases: [
      { name: 'truncated', code: 'SIZE_MISMATCH' },
      { name: 'bit-flipped', code: 'CHECKSUM_MISMATCH' },
      { name: 'tampered', code: 'DECRYPT_TAMPERED' },
      { name: 'empty', code: 'BACKUP_FILE_EMPTY' },
    ],
  },
];

describe.each(variants)('$label', (variant) => {
  it('every damage is caught by the worker’s verify job at every level with its own code, and restore refuses it', async () => {
    const stack = await newStack({
      BACKUP_TARGET_NAME: variant.target,
      ...(variant.encrypted ? { BACKUP_ENCRYPTION_KEY_FILE: path.join(keysDir, 'a.key') } : {}),
    });
    const pristine = await pristineBackup(stack, variant.target);
    // The undamaged backup passes every level: the failures below are the damage's doing.
    for (const level of verifyLevels) {
      const job = await enqueueVerify(stack.queue, { backupId: pristine, level });
      expect(await stack.finished(job.id!)).toBe('completed');
    }
    // A worker that holds only another key, on the same backups.
    const wrongKey = variant.encrypted
      ? await newStack({
          BACKUP_TARGET_NAME: variant.target,
          BACKUP_DIR: stack.config.backupDir,
          BACKUP_ENCRYPTION_KEY_FILE: path.join(keysDir, 'b.key'),
          BACKUP_BACKOFF: '200ms',
        })
      : undefined;

    for (const { name, code } of variant.cases) {
      const id = await copyBackup(stack.config, pristine);
      await damages[name]!(stack.config, id);
      const verifier = stack;
      const damaged = await fs.readFile(await fileOf(stack.config, id));
      const row: Record<string, unknown> = { variant: variant.label, damage: name, expected: code };
      for (const level of verifyLevels as readonly VerifyLevel[]) {
        const job = await enqueueVerify(verifier.queue, { backupId: id, level });
        const done = await verifier.settle(job.id!);
        expect(await verifier.queue.getJobState(job.id!), `${name} at ${level}`).toBe('failed');
        expect(failureCode(done), `${name} at ${level}: ${done.failedReason}`).toBe(code);
        // Retrying cannot make a damaged backup good: one attempt, no retry.
        expect(done.attemptsMade).toBe(1);
        row[level] = failureCode(done);
      }
      // The failure is recorded where the catalog, prune and the dashboard read it.
      const state = verificationState((await findBackup(stack.config.backupDir, id)).manifest);
      expect(state).toMatchObject({ state: 'failed', errorCode: code });

      // Restore refuses it, and the target database never appears: what shows without reading the
      // file is refused before anything is created; a damage found in the pass that restores (the
      // checksum is checked there) drops the staging database.
      const database = `${source.name}_restored_${serial}`;
      const keyring = verifier.services[0]!.context.keyring;
      let refused: unknown;
      await restoreBackup({
        backupDir: stack.config.backupDir,
        logDir: stack.config.logDir,
        id,
        to: { ...stack.config.targets[0]!.connection, database },
        keyring,
      }).catch((error: unknown) => {
        refused = error;
      });
      expect(isBackupError(refused), String(refused)).toBe(true);
      expect((refused as { code: string }).code).toBe(code);
      row.restoreBackup = (refused as { code: string }).code;
      const restoreJob = await enqueueRestore(verifier.queue, { backupId: id, database, force: true });
      const restored = await verifier.settle(restoreJob.id!);
      expect(failureCode(restored), restored.failedReason).toBe(code);
      row.restoreJob = failureCode(restored);
      expect(await databaseExists(database)).toBe(false);
      // Verification reads; it never repairs or rewrites the damaged file.
      expect(await fs.readFile(await fileOf(stack.config, id))).toEqual(damaged);
      matrix.push(row);
      console.log(`[corruption] ${JSON.stringify(row)}`);
    }

    if (wrongKey) {
      // Not a damage: a worker without the backup's key cannot check it. That is retried, and the
      // backup stays verified (retention must not delete it); restore names the missing key.
      const id = await copyBackup(stack.config, pristine);
      const first = await enqueueVerify(stack.queue, { backupId: id, level: 'read' });
      expect(await stack.finished(first.id!)).toBe('completed');
      const row: Record<string, unknown> = { variant: variant.label, damage: 'wrong-key' };
      for (const level of verifyLevels as readonly VerifyLevel[]) {
        const job = await enqueueVerify(wrongKey.queue, { backupId: id, level });
        const done = await wrongKey.settle(job.id!);
        expect(failureCode(done), `wrong key at ${level}: ${done.failedReason}`).toBe('VERIFY_INCONCLUSIVE');
        expect(done.failedReason).toContain('DECRYPT_WRONG_KEY');
        expect(done.attemptsMade).toBe(3);
        row[level] = failureCode(done);
      }
      const state = verificationState((await findBackup(stack.config.backupDir, id)).manifest);
      expect(state).toMatchObject({ state: 'verified', level: 'read' });
      const database = `${source.name}_restored_${serial}`;
      const refused = await restoreBackup({
        backupDir: stack.config.backupDir,
        logDir: stack.config.logDir,
        id,
        to: { ...stack.config.targets[0]!.connection, database },
        keyring: wrongKey.services[0]!.context.keyring,
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((refused as { code?: string }).code, String(refused)).toBe('DECRYPT_WRONG_KEY');
      row.restoreBackup = (refused as { code: string }).code;
      expect(await databaseExists(database)).toBe(false);
      matrix.push(row);
      console.log(`[corruption] ${JSON.stringify(row)}`);
    }
  }, 240_000);
});
