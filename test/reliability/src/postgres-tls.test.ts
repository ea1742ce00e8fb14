import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  classifyPostgresError,
  connect,
  findPgTool,
  isBackupError,
  libpqEnvironment,
  loadConfig,
  type PgConnection,
} from '@pgbackup/backup-core';
import {
  type DumpDocument,
  type ErrorDocument,
  jsonOf,
  type RestoreDocument,
  runCli,
  type StatusDocument,
  type VerifyDocument,
} from '@pgbackup/backupctl/testing';
import { harness, PostgresServer, runSql, type TlsFiles } from '@pgbackup/testkit';
import { type WorkerFixture, workerFixture } from '@pgbackup/worker/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A server that offers TLS, and a role (`tls_agent`) that pg_hba.conf admits over TLS only: a
// silent plain connection would be refused by the server rather than succeed unnoticed.
let server: PostgresServer;
let tls: TlsFiles;
let cwd: string;
let serverMajor: number;
const fixtures: WorkerFixture[] = [];

/** The role's URL with libpq-style query parameters, e.g. `sslmode=verify-full&sslrootcert=...`. */
function url(host: string, params: Record<string, string>, database = 'shop'): string {
  const query = new URLSearchParams(params).toString();
  return `postgresql://tls_agent@${host}:${server.port}/${database}${query ? `?${query}` : ''}`;
}

/** The connection the configuration loader makes of these variables (URL and PGSSL*). */
function connectionOf(env: Record<string, string>): PgConnection {
  const config = loadConfig({ env: { BACKUP_TARGET_NAME: 'shop', ...env }, cwd });
  return config.targets[0]!.connection;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isBackupError(error)) return error.code;
    throw error;
  }
  return 'connected';
}

/** Connects through node-pg and reports whether the session is encrypted. */
async function sessionUsesTls(connection: PgConnection): Promise<boolean> {
  const client = await connect(connection);
  try {
    const { rows } = await client.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    return rows[0]!.ssl;
  } finally {
    await client.end();
  }
}

/** pg_dump alone (the libpq path, no node-pg connection before it): its exit and classified stderr. */
async function pgDumpAlone(connection: PgConnection): Promise<{ status: number | null; code: string }> {
  const tool = await findPgTool('pg_dump', serverMajor);
  const result = spawnSync(tool.path, ['--schema-only', '--file', path.join(cwd, 'schema.sql')], {
    env: libpqEnvironment(connection),
    encoding: 'utf8',
  });
  return {
    status: result.status,
    code: result.status === 0 ? 'ok' : (classifyPostgresError(result.stderr) ?? result.stderr),
  };
}

beforeAll(async () => {
  server = await PostgresServer.start({ tls: true });
  tls = server.tls!;
  cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'pgbackup-tls-test-'));
  const hba = path.join(server.dir, 'data', 'pg_hba.conf');
  const original = await fs.readFile(hba, 'utf8');
  await fs.writeFile(
    hba,
    `hostssl all tls_agent 127.0.0.1/32 trust\nhostnossl all tls_agent 127.0.0.1/32 reject\n${original}`,
  );
  await runSql(server.url('postgres'), 'SELECT pg_reload_conf()');
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  serverMajor = Math.floor(
    Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num) / 10_000,
  );
  await admin.end();
  // CREATEDB: the restore level of verification creates a scratch database; a restore, a staging one.
  await runSql(server.url('postgres'), 'CREATE ROLE tls_agent LOGIN CREATEDB');
  await runSql(server.url('postgres'), 'CREATE DATABASE shop OWNER tls_agent');
  await runSql(
    server.url('shop'),
    'CREATE TABLE orders AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 5000) g; ALTER TABLE orders OWNER TO tls_agent',
  );
}, 60_000);

afterAll(async () => {
  for (const fixture of fixtures) await fixture.cleanup();
  await server?.destroy();
  if (cwd) await fs.rm(cwd, { recursive: true, force: true });
});

describe('node-pg (connect) and libpq (pg_dump) apply the same sslmode', () => {
  it('verify-full with the right CA and host localhost: an encrypted session, and pg_dump succeeds', async () => {
    const connection = connectionOf({
      DATABASE_URL: url('localhost', { sslmode: 'verify-full', sslrootcert: tls.ca }),
    });
    expect(connection.tls).toEqual({ mode: 'verify-full', rootCert: tls.ca });
    expect(await sessionUsesTls(connection)).toBe(true);
    expect(await pgDumpAlone(connection)).toEqual({ status: 0, code: 'ok' });
  });

  it('verify-full with an unrelated CA: PG_TLS_FAILED from node-pg and from pg_dump alone', async () => {
    const connection = connectionOf({
      DATABASE_URL: url('localhost', { sslmode: 'verify-full', sslrootcert: tls.otherCa }),
    });
    expect(await codeOf(connect(connection))).toBe('PG_TLS_FAILED');
    expect((await pgDumpAlone(connection)).code).toBe('PG_TLS_FAILED');
  });

  it('verify-full against 127.0.0.1 with a certificate for localhost only: PG_TLS_FAILED on the host name; verify-ca there succeeds', async () => {
    const full = connectionOf({
      DATABASE_URL: url('127.0.0.1', { sslmode: 'verify-full', sslrootcert: tls.ca }),
    });
    expect(await codeOf(connect(full))).toBe('PG_TLS_FAILED');
    expect((await pgDumpAlone(full)).code).toBe('PG_TLS_FAILED');
    const ca = connectionOf({
      DATABASE_URL: url('127.0.0.1', { sslmode: 'verify-ca', sslrootcert: tls.ca }),
    });
    expect(await sessionUsesTls(ca)).toBe(true);
    expect(await pgDumpAlone(ca)).toEqual({ status: 0, code: 'ok' });
  });

  it('require without a CA: encrypted, not verified', async () => {
    const connection = connectionOf({ DATABASE_URL: url('127.0.0.1', { sslmode: 'require' }) });
    expect(await sessionUsesTls(connection)).toBe(true);
    expect(await pgDumpAlone(connection)).toEqual({ status: 0, code: 'ok' });
  });

  it('disable against a hostssl-only pg_hba: PG_AUTH_FAILED, not a plain connection', async () => {
    const connection = connectionOf({ DATABASE_URL: url('localhost', { sslmode: 'disable' }) });
    expect(await codeOf(connect(connection))).toBe('PG_AUTH_FAILED');
    expect((await pgDumpAlone(connection)).code).toBe('PG_AUTH_FAILED');
  });

  it('prefer (the default) uses TLS when offered, never falls back to plain on a certificate error, and falls back only when the server refuses TLS', async () => {
    expect(await sessionUsesTls(connectionOf({ DATABASE_URL: url('localhost', {}) }))).toBe(true);
    const wrongCa = connectionOf({
      DATABASE_URL: url('localhost', { sslmode: 'prefer', sslrootcert: tls.otherCa }),
    });
    expect(await codeOf(connect(wrongCa))).toBe('PG_TLS_FAILED');
    // The harness's own server has no TLS: it answers the SSLRequest with 'N'.
    const plainServer = new URL(harness().pgAdminUrl);
    const plain = {
      ...connectionOf({ DATABASE_URL: harness().pgAdminUrl }),
      tls: { mode: 'prefer' as const },
    };
    expect(await sessionUsesTls(plain)).toBe(false);
    const required = connectionOf({
      DATABASE_URL: `${plainServer.protocol}//${plainServer.username}@${plainServer.host}${plainServer.pathname}?sslmode=require`,
    });
    expect(await codeOf(connect(required))).toBe('PG_TLS_FAILED');
    expect((await pgDumpAlone(required)).code).toBe('PG_TLS_FAILED');
  });

  it('PGSSLMODE and PGSSLROOTCERT apply to the environment target, and a URL parameter wins over them', async () => {
    const fromEnv = connectionOf({
      DATABASE_URL: url('localhost', {}),
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: tls.otherCa,
    });
    expect(fromEnv.tls).toEqual({ mode: 'verify-full', rootCert: tls.otherCa });
    expect(await codeOf(connect(fromEnv))).toBe('PG_TLS_FAILED');
    const urlWins = connectionOf({
      DATABASE_URL: url('localhost', { sslrootcert: tls.ca }),
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: tls.otherCa,
    });
    expect(await sessionUsesTls(urlWins)).toBe(true);
  });
});

describe('every command, through the worker and backupctl', () => {
  let good: WorkerFixture;
  let backupId: string;

  it('verify-full with the right CA: dump, verification at the restore level, restore --direct', async () => {
    good = await workerFixture({
      DATABASE_URL: url('localhost', { sslmode: 'verify-full', sslrootcert: tls.ca }),
      BACKUP_TARGET_NAME: 'shop',
      BACKUP_VERIFY: 'restore',
    });
    fixtures.push(good);
    await good.start();
    const dumped = await runCli(good.env, ['dump', '--wait', '--json']);
    expect(dumped.code, dumped.stderr).toBe(0);
    const chain = jsonOf<DumpDocument>(dumped).results[0]!;
    expect(chain.verify).toMatchObject({ level: 'restore', ok: true });
    backupId = chain.backupId!;

    const restored = await runCli(good.env, ['restore', backupId, '--to', 'shop_copy', '--direct', '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(jsonOf<RestoreDocument>(restored).state).toBe('completed');
    const copy = { ...good.config.targets[0]!.connection, database: 'shop_copy' };
    const client = await connect(copy);
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(5000);
    } finally {
      await client.end();
    }
  }, 120_000);

  it('an unrelated CA: dump and restore (job and --direct) fail with PG_TLS_FAILED, once each, verify --level restore is inconclusive for it, and status names it', async () => {
    expect(backupId).toBeDefined();
    const bad = await workerFixture({
      DATABASE_URL: url('localhost', { sslmode: 'verify-full', sslrootcert: tls.otherCa }),
      BACKUP_TARGET_NAME: 'shop',
      BACKUP_VERIFY: 'restore',
      // The good run's backups: verify and restore have something to work on.
      BACKUP_DIR: good.config.backupDir,
      BACKUP_ATTEMPTS: '3',
    });
    fixtures.push(bad);
    await bad.start();

    const dumped = await runCli(bad.env, ['dump', '--wait', '--json']);
    expect(dumped.code, dumped.stderr).toBe(1);
    const chain = jsonOf<DumpDocument>(dumped).results[0]!;
    expect(chain.failure?.code, chain.failure?.reason ?? undefined).toBe('PG_TLS_FAILED');
    // Not retryable: one attempt of the three allowed.
    expect((await bad.queue.getJob(chain.dumpJobId!))?.attemptsMade).toBe(1);

    const status = await runCli(bad.env, ['status', '--json']);
    expect(status.code, status.stdout).toBe(1);
    const target = jsonOf<StatusDocument>(status).targets.find((t) => t.target === 'shop')!;
    expect(target.failing).toBe(true);
    expect(target.failingJob?.reason).toMatch(/^PG_TLS_FAILED: /);

    const verified = await runCli(bad.env, ['verify', backupId, '--level', 'restore', '--wait', '--json']);
    expect(verified.code, verified.stderr).toBe(1);
    // The backup is fine: a check that cannot reach its scratch server is inconclusive, not a defect.
    const failure = jsonOf<VerifyDocument>(verified).failure;
    expect(failure?.code).toBe('VERIFY_INCONCLUSIVE');
    expect(failure?.reason).toContain('PG_TLS_FAILED');

    const queued = await runCli(bad.env, ['restore', backupId, '--to', 'shop_bad', '--wait', '--json']);
    expect(queued.code, queued.stderr).toBe(1);
    expect(jsonOf<RestoreDocument>(queued).failure?.code).toBe('PG_TLS_FAILED');

    const direct = await runCli(bad.env, ['restore', backupId, '--to', 'shop_bad', '--direct', '--json']);
    expect(direct.code, direct.stderr).toBe(1);
    expect(jsonOf<ErrorDocument>(direct).error.code).toBe('PG_TLS_FAILED');
  }, 120_000);
});
