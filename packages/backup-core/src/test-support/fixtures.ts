import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@pgbackup/testkit';
import type { DumpTarget } from '../dump/dump.js';
import type { Compression } from '../manifest.js';
import type { PgConnection } from '../postgres/connection.js';

/** libpq connection parts of a test database URL. */
export function connectionOf(url: string): PgConnection {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || 'postgres'),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    database: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

export function dumpTarget(db: TestDatabase, compression: Compression = 'zstd', name = 'app'): DumpTarget {
  return { name, connection: connectionOf(db.url), compression, suspiciousRatio: 0.5 };
}

export interface Workspace {
  root: string;
  backupDir: string;
  logDir: string;
  remove(): Promise<void>;
}

/** A temporary backup and log directory for one test. */
export async function workspace(): Promise<Workspace> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-core-test-'));
  return {
    root,
    backupDir: path.join(root, 'backups'),
    logDir: path.join(root, 'logs'),
    remove: () => fs.rm(root, { recursive: true, force: true }),
  };
}

export { createTestDatabase };
