import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  defaultRetentionPolicy,
  listBackups,
  type Manifest,
  manifestSchema,
  newBackupId,
  planPrune,
  writeManifest,
} from '@pgbackup/backup-core';
import { trackDirectory } from '../../test/harness/reaper.js';
import type { Measurement } from './sample.js';

const HOUR = 3_600_000;
const END = Date.parse('2026-11-24T23:00:00Z');
const NOW = new Date('2026-11-25T00:00:00Z');
export const PRUNE_MANIFESTS = 100_000;
export const CATALOG_MANIFESTS = 10_000;

/** A manifest as the worker writes it: one backup an hour going back from END, one in ten failed its verification. */
function syntheticManifest(index: number): Manifest {
  const createdAt = new Date(END - index * HOUR);
  const id = newBackupId(
    'bench',
    createdAt,
    createHash('sha256').update(String(index)).digest('hex').slice(0, 6),
  );
  const at = new Date(createdAt.getTime() + 95_000).toISOString();
  const failed = index % 10 === 3;
  return {
    formatVersion: 1,
    id,
    target: 'bench',
    database: 'app',
    createdAt: createdAt.toISOString(),
    completedAt: at,
    durationMs: 95_000,
    file: `${id}.dump.zst`,
    format: 'custom',
    compression: 'zstd',
    encryption: null,
    sizeBytes: 412_000_000 + index,
    sha256: createHash('sha256').update(id).digest('hex'),
    pgDumpVersion: '15.20',
    serverVersion: '15.20',
    tableCount: 5,
    tables: ['customers', 'orders', 'events', 'comments', 'attachments'].map((name) => ({
      schema: 'public',
      name,
      rows: 1_200_000,
      bytes: 180_000_000,
    })),
    status: 'complete',
    verifications: [
      failed
        ? {
            level: 'checksum',
            ok: false,
            at,
            durationMs: 900,
            errorCode: 'CHECKSUM_MISMATCH',
            message: 'the SHA-256 does not match',
          }
        : { level: 'checksum', ok: true, at, durationMs: 900 },
    ],
    hostname: 'backup-1',
  };
}

function timeRuns(runs: number, fn: () => unknown): number[] {
  return Array.from({ length: runs }, () => {
    const started = performance.now();
    fn();
    return performance.now() - started;
  });
}

/** planPrune over 100,000 manifests (newest first, as listBackups returns them), in UTC and in a zone with DST. */
export function benchPrunePlanning(runs: number): Measurement[] {
  const manifests = Array.from({ length: PRUNE_MANIFESTS }, (_, index) => syntheticManifest(index));
  manifestSchema.parse(manifests[0]);
  return ['UTC', 'Europe/Paris'].map((timeZone) => ({
    key: `prune-${timeZone}`,
    label: `planPrune, ${PRUNE_MANIFESTS.toLocaleString('en')} manifests, ${timeZone}`,
    command: `planPrune({ manifests, policy: default, timeZone: '${timeZone}' })`,
    samples: timeRuns(runs, () =>
      planPrune({ target: 'bench', manifests, policy: defaultRetentionPolicy, now: NOW, timeZone }),
    ).map((wallMs) => ({ wallMs, clientCpuMs: 0, serverCpuMs: 0 })),
  }));
}

/**
 * listBackups over 10,000 manifest files written by writeManifest into a temporary directory, and
 * where that time goes: reading the files (one at a time, as listBackups does) and validating them.
 */
export async function benchCatalogListing(runs: number): Promise<Measurement[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-bench-catalog-'));
  trackDirectory(dir);
  try {
    const manifests = Array.from({ length: CATALOG_MANIFESTS }, (_, index) => syntheticManifest(index));
    // The worker's dump creates the target's directory; writeManifest expects it.
    mkdirSync(path.join(dir, 'bench'), { mode: 0o700 });
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < manifests.length) await writeManifest(dir, manifests[next++]!);
      }),
    );
    const files = manifests.map((manifest) => path.join(dir, 'bench', `${manifest.id}.manifest.json`));
    const count = CATALOG_MANIFESTS.toLocaleString('en');
    const list: Measurement = {
      key: 'list',
      label: `listBackups, ${count} manifest files`,
      command: 'listBackups(backupDir)',
      samples: [],
    };
    const read: Measurement = {
      key: 'list-read',
      label: `of which reading: readFile + JSON.parse of the ${count} files, in turn`,
      command: 'for (const file of files) JSON.parse(await readFile(file))',
      samples: [],
    };
    const validate: Measurement = {
      key: 'list-validate',
      label: `of which validating: manifestSchema.safeParse of ${count} parsed manifests`,
      command: 'parsed.map((m) => manifestSchema.safeParse(m))',
      samples: [],
    };
    const time = async (fn: () => unknown) => {
      const started = performance.now();
      await fn();
      return { wallMs: performance.now() - started, clientCpuMs: 0, serverCpuMs: 0 };
    };
    let parsed: unknown[] = [];
    for (let run = 0; run < runs; run++) {
      list.samples.push(
        await time(async () => {
          const listing = await listBackups(dir);
          if (listing.entries.length !== CATALOG_MANIFESTS || listing.problems.length > 0) {
            throw new Error(
              `listBackups found ${listing.entries.length} backups, ${listing.problems.length} problems`,
            );
          }
        }),
      );
      read.samples.push(
        await time(async () => {
          parsed = [];
          for (const file of files) parsed.push(JSON.parse(await readFile(file, 'utf8')));
        }),
      );
      validate.samples.push(await time(() => parsed.map((manifest) => manifestSchema.safeParse(manifest))));
    }
    return [list, read, validate];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
