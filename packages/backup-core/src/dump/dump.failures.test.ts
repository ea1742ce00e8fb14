import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, PostgresServer, type TestDatabase } from '@pgbackup/testkit';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupError } from '../errors.js';
import { findPgTool } from '../postgres/tools.js';
import { listBackups } from '../storage/catalog.js';
import { createTestDatabase, dumpTarget, type Workspace, workspace } from '../test-support/fixtures.js';
import { verifyBackup } from '../verify/verify.js';
import { type DumpOptions, type DumpProgress, runDump } from './dump.js';

let ws: Workspace | undefined;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await ws?.remove();
  ws = undefined;
});

async function dumpError(options: Omit<DumpOptions, 'backupDir' | 'logDir'>): Promise<BackupError> {
  ws ??= await workspace();
  const error = await runDump({ ...options, backupDir: ws.backupDir, logDir: ws.logDir }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof BackupError)) throw new Error(`expected a BackupError, got ${String(error)}`);
  return error;
}

/** The whole text of the only run log of the workspace. */
async function runLogText(): Promise<string> {
  const logs = await fs.readdir(ws!.logDir);
  expect(logs).toHaveLength(1);
  return fs.readFile(path.join(ws!.logDir, logs[0]!), 'utf8');
}

/** Every file under a directory (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** pg_dump and compressor processes this test process started and that are still there. */
function dumpChildren(): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([, ppid, comm]) => Number(ppid) === process.pid && ['pg_dump', 'zstd', 'gzip'].includes(comm ?? ''),
    )
    .map((fields) => fields.join(' '));
}

/** After a failed dump: no child left, nothing in the target's directory, the run log says why. */
async function expectCleanFailure(code: string): Promise<void> {
  expect(dumpChildren()).toEqual([]);
  expect(await filesUnder(ws!.backupDir)).toEqual([]);
  expect((await runLogText()).trim().split('\n').at(-1)).toMatch(new RegExp(`STATUS: ERROR ${code}\\b`));
}

describe('dump of an unreachable or refused database', () => {
  it('is PG_DATABASE_MISSING, not retryable, for a database that does not exist', async () => {
    const db = await createTestDatabase('nodb');
    const target = dumpTarget(db);
    const error = await dumpError({
      target: { ...target, connection: { ...target.connection, database: `${db.name}_nope` } },
    });
    expect(error).toMatchObject({ code: 'PG_DATABASE_MISSING', retryable: false });
    await expectCleanFailure('PG_DATABASE_MISSING');
  });

  it('is PG_UNREACHABLE, retryable, when nothing listens on the port', async () => {
    const db = await createTestDatabase('noport');
    const target = dumpTarget(db);
    const error = await dumpError({
      target: { ...target, connection: { ...target.connection, port: await freePort() } },
    });
    expect(error).toMatchObject({ code: 'PG_UNREACHABLE', retryable: true });
    await expectCleanFailure('PG_UNREACHABLE');
  });

  it('is PG_AUTH_FAILED for a wrong password, which appears in no message, log or file', async () => {
    const server = await PostgresServer.start();
    cleanups.push(() => server.destroy());
    const hba = path.join(server.dir, 'data', 'pg_hba.conf');
    // Overwriting keeps the file's owner (the postgres user when tests run as root).
    await fs.writeFile(
      hba,
      'host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n',
    );
    const password = `right-${randomBytes(6).toString('hex')}`;
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE dumper LOGIN PASSWORD '${password}'`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    // The reload is asynchronous: wait (bounded) until the right password is asked for and accepted.
    const asDumper = (pw: string) =>
      new pg.Client({
        host: '127.0.0.1',
        port: server.port,
        user: 'dumper',
        password: pw,
        database: 'postgres',
      });
    for (let attempt = 0; ; attempt++) {
      const probe = asDumper(wrong);
      const refused = await probe.connect().then(
        () => false,
        () => true,
      );
      await probe.end().catch(() => undefined);
      if (refused) break;
      if (attempt > 50) throw new Error('pg_hba.conf reload did not take effect');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const ok = asDumper(password);
    await ok.connect();
    await ok.end();

    const connection = {
      host: '127.0.0.1',
      port: server.port,
      user: 'dumper',
      password: wrong,
      database: 'postgres',
    };
    const error = await dumpError({
      target: { name: 'app', connection, compression: 'zstd', suspiciousRatio: 0.5 },
    });
    expect(error).toMatchObject({ code: 'PG_AUTH_FAILED', retryable: false });
    await expectCleanFailure('PG_AUTH_FAILED');

    const said = [
      error.message,
      JSON.stringify(error.details ?? {}),
      String((error.cause as Error | undefined)?.message ?? ''),
      await runLogText(),
      ...(await Promise.all((await filesUnder(ws!.root)).map((file) => fs.readFile(file, 'utf8')))),
    ].join('\n');
    expect(said).not.toContain(wrong);
    expect(said).not.toContain(password);
  });
});

describe('a dump that is stopped', () => {
  async function bigDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase('big');
    await db.query(
      'CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g + 1)::text) AS b FROM generate_series(1, 300000) g',
    );
    return db;
  }

  it('is ABORTED when the signal fires mid-stream, leaving no file and no process', async () => {
    const db = await bigDatabase();
    ws = await workspace();
    const dir = path.join(ws.backupDir, 'app');
    const controller = new AbortController();
    let polling: NodeJS.Timeout | undefined;
    const onProgress = (progress: DumpProgress) => {
      if (progress.phase !== 'dumping' || polling) return;
      // Abort once bytes are in the partial file: the dump is then surely mid-stream.
      polling = setInterval(() => {
        void fs.readdir(dir).then(async (names) => {
          for (const name of names.filter((n) => n.endsWith('.partial'))) {
            const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
            if (stat && stat.size > 0) controller.abort(new Error('operator pressed ^C'));
          }
        });
      }, 5);
    };
    cleanups.push(async () => clearInterval(polling));

    const error = await dumpError({ target: dumpTarget(db), signal: controller.signal, onProgress });
    clearInterval(polling);
    expect(controller.signal.aborted).toBe(true);
    expect(error).toMatchObject({ code: 'ABORTED', retryable: true });
    await expectCleanFailure('ABORTED');
  });

  it.each(['connecting', 'dumping'] as const)(
    'is ABORTED when the signal fires in the %s phase',
    async (phase) => {
      const db = await createTestDatabase('abortearly');
      await db.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g');
      const controller = new AbortController();
      const error = await dumpError({
        target: dumpTarget(db),
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === phase) controller.abort();
        },
      });
      expect(error).toMatchObject({ code: 'ABORTED', retryable: true });
      await expectCleanFailure('ABORTED');
    },
  );

  it('is ABORTED, with nothing done, when the signal has already fired', async () => {
    const db = await createTestDatabase('aborted');
    const error = await dumpError({ target: dumpTarget(db), signal: AbortSignal.abort() });
    expect(error).toMatchObject({ code: 'ABORTED' });
    await expectCleanFailure('ABORTED');
  });

  /** Holds an ACCESS EXCLUSIVE lock (as an ALTER TABLE would) until the test ends. */
  async function holdLock(db: TestDatabase, lockSql: string): Promise<void> {
    const locker = new pg.Client({ connectionString: db.url });
    locker.on('error', () => undefined);
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query(lockSql);
  }

  /** Sessions of the dump still open on the server (bounded wait: a backend exits just after its client). */
  async function dumpSessionsLeft(db: TestDatabase): Promise<unknown[]> {
    const sql = `SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('pgbackup', 'pg_dump')`;
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await db.query(sql)).length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return db.query(sql);
  }

  it('is DUMP_STALLED when a table lock blocks the snapshot and pg_dump, leaving nothing behind', async () => {
    const db = await createTestDatabase('stall');
    await db.query('CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g; CREATE TABLE u (v int)');
    await holdLock(db, 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE');

    const error = await dumpError({ target: dumpTarget(db), stallTimeoutMs: 1500 });
    expect(error).toMatchObject({ code: 'DUMP_STALLED', retryable: true });
    await expectCleanFailure('DUMP_STALLED');
    expect(await dumpSessionsLeft(db)).toEqual([]);
  });

  it('is DUMP_STALLED when only pg_dump waits for a lock (on a partitioned parent), leaving nothing behind', async () => {
    const db = await createTestDatabase('stallpd');
    await db.query(`
      CREATE TABLE p (id int, at date) PARTITION BY RANGE (at);
      CREATE TABLE p_2026 PARTITION OF p FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO p SELECT g, DATE '2026-01-01' + g % 300 FROM generate_series(1, 1000) g;`);
    // The snapshot's queries read the partitions only; pg_dump also locks the parent.
    await holdLock(db, 'LOCK TABLE ONLY p IN ACCESS EXCLUSIVE MODE');
    const phases: string[] = [];

    const error = await dumpError({
      target: dumpTarget(db),
      stallTimeoutMs: 1500,
      onProgress: (p) => phases.push(p.phase),
    });
    expect(error).toMatchObject({ code: 'DUMP_STALLED', retryable: true });
    expect(phases).toContain('dumping');
    await expectCleanFailure('DUMP_STALLED');
    expect(await dumpSessionsLeft(db)).toEqual([]);
  });
});

describe('a dump far smaller than the last verified one', () => {
  it('is DUMP_SUSPICIOUS, kept and listed as suspicious, unless the check is disabled', async () => {
    const db = await createTestDatabase('shrink');
    await db.query('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g');
    ws = await workspace();
    const paths = { backupDir: ws.backupDir, logDir: ws.logDir };
    const first = await runDump({ target: dumpTarget(db), ...paths });
    await verifyBackup({ backupDir: ws.backupDir, id: first.manifest.id, level: 'checksum' });
    await db.query('DELETE FROM t WHERE id % 20 <> 0');

    const error = await runDump({ target: dumpTarget(db), ...paths }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'DUMP_SUSPICIOUS', retryable: false });
    const suspicious = (await listBackups(ws.backupDir)).entries.find(
      (e) => e.manifest.id !== first.manifest.id,
    );
    expect(suspicious?.manifest.status).toBe('suspicious');
    expect(suspicious?.manifest.suspicionReason).toMatch(/500 rows/);
    expect(suspicious?.manifest.tables).toMatchObject([{ name: 't', rows: 500 }]);
    await expect(fs.stat(suspicious!.filePath)).resolves.toMatchObject({
      size: suspicious!.manifest.sizeBytes,
    });

    const unchecked = await runDump({ target: { ...dumpTarget(db), suspiciousRatio: 0 }, ...paths });
    expect(unchecked.manifest.status).toBe('complete');
    expect((await listBackups(ws.backupDir)).entries).toHaveLength(3);
  });
});

describe('tools', () => {
  it('is PG_DUMP_TOO_OLD, naming the package to install, when no pg_dump is new enough', async () => {
    const error = await findPgTool('pg_dump', 99).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackupError);
    expect(error).toMatchObject({ code: 'PG_DUMP_TOO_OLD', retryable: false });
    expect((error as Error).message).toContain('postgresql-client-99');
  });
});
