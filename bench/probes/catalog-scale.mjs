// The catalog at fleet scale (issue 15): 500 targets x 30 backups = 15,000 manifests in a temporary
// backup directory, listed five times in one process: the first listing reads and checks every
// manifest (cold), the next ones reuse each unchanged target directory's listing (warm; see
// packages/backup-core/src/storage/directory-listing.ts). Goal: warm under 300 ms.
// Run (after the build): pnpm --filter @pgbackup/bench run probe:catalog-scale [-- --targets N --backups M]
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { listBackups, newBackupId, writeManifest } from '@pgbackup/backup-core';

const { values } = parseArgs({
  options: { targets: { type: 'string', default: '500' }, backups: { type: 'string', default: '30' } },
});
const targets = Number(values.targets);
const perTarget = Number(values.backups);
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-catalog-scale-'));
try {
  for (let t = 0; t < targets; t++) {
    const target = `srv.db${t}`;
    await fs.mkdir(path.join(dir, target), { recursive: true });
    for (let b = 0; b < perTarget; b++) {
      const createdAt = new Date(Date.now() - b * 86_400_000 - t * 1000);
      const id = newBackupId(target, createdAt);
      const bytes = Buffer.from(id);
      await fs.writeFile(path.join(dir, target, `${id}.dump`), bytes);
      const at = createdAt.toISOString();
      await writeManifest(dir, {
        formatVersion: 1,
        id,
        target,
        database: `db${t}`,
        createdAt: at,
        completedAt: at,
        durationMs: 1,
        file: `${id}.dump`,
        format: 'custom',
        compression: 'zstd',
        encryption: null,
        sizeBytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        pgDumpVersion: '15',
        serverVersion: '15',
        tableCount: 2,
        tables: [
          { schema: 'public', name: 'orders', rows: 1000, bytes: 65536 },
          { schema: 'public', name: 'customers', rows: 100, bytes: 8192 },
        ],
        status: 'complete',
        verifications: [{ level: 'read', ok: true, at, durationMs: 1 }],
        hostname: 'bench',
      });
    }
  }
  // A settled catalog: the directories were last changed a while ago (the listing of a directory
  // changed within the last 2 s is never reused).
  const past = new Date(Date.now() - 3_600_000);
  for (let t = 0; t < targets; t++) await fs.utimes(path.join(dir, `srv.db${t}`), past, past);
  const rows = [];
  for (let round = 1; round <= 5; round++) {
    const startedAt = performance.now();
    const { entries } = await listBackups(dir);
    rows.push({
      round,
      kind: round === 1 ? 'cold' : 'warm',
      manifests: entries.length,
      ms: Math.round(performance.now() - startedAt),
    });
  }
  console.table(rows);
  console.log(
    `load average: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${os.cpus().length} cores)`,
  );
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
