import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findBinary } from './binaries.js';
import { HarnessError } from './errors.js';
import { freePort } from './free-port.js';
import { trackDirectory } from './reaper.js';
import { serverIdentity } from './run-as.js';
import { runSql } from './sql.js';
import { createTlsFiles, type TlsFiles } from './tls-certificates.js';
import { logTail, TrackedChild } from './tracked-child.js';
import { waitFor } from './wait.js';

let serial = 0;

export interface PostgresServerOptions {
  /**
   * Start with ssl=on and a throwaway CA and server certificate (see tls-certificates.ts), in the
   * server's directory. TLS is offered, not required: pg_hba.conf is the test's to tighten.
   * Default false.
   */
  tls?: boolean;
  /**
   * More server settings (`-c name=value`), after the harness's own, so they win. For example
   * drillServerSettings.
   */
  settings?: Record<string, string>;
}

/**
 * A server set up as the runbook advises for drills: no replicas, so `wal_level=minimal`, at which
 * `pg_restore --jobs` loads the tables it created without writing WAL.
 */
export const drillServerSettings: Readonly<Record<string, string>> = {
  wal_level: 'minimal',
  max_wal_senders: '0',
};

/**
 * A private PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only, with
 * durability turned off for speed (fsync, full page writes). Tests may stop, kill and restart it.
 */
export class PostgresServer {
  readonly name = `postgres-${process.pid}-${serial++}`;
  private readonly process = new TrackedChild(this.name);

  private constructor(
    readonly dir: string,
    readonly port: number,
    /** The certificates when started with `tls: true`. */
    readonly tls: TlsFiles | undefined,
    private readonly settings: Readonly<Record<string, string>>,
  ) {}

  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const initdb = findBinary('initdb');
    findBinary('postgres');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-pg-'));
    trackDirectory(dir);
    const identity = serverIdentity();
    if (identity) chownSync(dir, identity.uid, identity.gid);
    const dataDir = path.join(dir, 'data');
    const init = spawnSync(
      initdb,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync'],
      { uid: identity?.uid, gid: identity?.gid, encoding: 'utf8', cwd: dir },
    );
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new HarnessError(`initdb failed (exit ${init.status}): ${init.stderr || init.error?.message}`);
    }
    const tls = options.tls ? createTlsFiles(path.join(dir, 'tls'), identity) : undefined;
    const server = new PostgresServer(dir, await freePort(), tls, options.settings ?? {});
    await server.startProcess();
    return server;
  }

  /** Connection URL for a database on this server (superuser `postgres`, trust auth). */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /**
   * Runs SQL on `database` as the superuser, through a short-lived connection. Several statements
   * may be given at once (no parameters then); the rows returned are the last statement's.
   */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(database: string, sql: string): Promise<Row[]> {
    return runSql<Row>(this.url(database), sql);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  private async startProcess(): Promise<void> {
    const identity = serverIdentity();
    const log = openSync(path.join(this.dir, 'postgres.log'), 'a');
    if (identity) chownSync(path.join(this.dir, 'postgres.log'), identity.uid, identity.gid);
    const child = spawn(
      findBinary('postgres'),
      [
        '-D',
        path.join(this.dir, 'data'),
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${this.dir}`,
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=400',
        '-c',
        'shared_buffers=128MB',
        ...(this.tls
          ? [
              '-c',
              'ssl=on',
              '-c',
              `ssl_cert_file=${this.tls.serverCert}`,
              '-c',
              `ssl_key_file=${this.tls.serverKey}`,
            ]
          : []),
        ...Object.entries(this.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
      { uid: identity?.uid, gid: identity?.gid, stdio: ['ignore', log, log] },
    );
    // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down with it.
    this.process.attach(child, 'QUIT');
    let exitedEarly = false;
    child.once('exit', () => {
      exitedEarly = true;
    });
    await waitFor(`PostgreSQL on port ${this.port}`, async () => {
      if (exitedEarly) throw new HarnessError(`postgres exited at start: ${this.logTail()}`);
      const client = new pg.Client({ connectionString: this.url() });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }

  logTail(lines = 20): string {
    return logTail(path.join(this.dir, 'postgres.log'), lines);
  }

  /** Fast shutdown: open connections are closed, the server stops cleanly. */
  async stop(): Promise<void> {
    await this.process.signalAndWait('SIGINT');
  }

  /** Crash: SIGKILL to the postmaster; the next start runs crash recovery. */
  async kill(): Promise<void> {
    const pid = this.process.pid;
    await this.process.signalAndWait('SIGKILL');
    // Orphaned backends notice the postmaster is gone and exit; wait so the port is free.
    if (pid !== undefined) {
      await waitFor('orphaned PostgreSQL backends to exit', async () => !this.hasBackendsOf(pid), 15_000);
    }
  }

  private hasBackendsOf(postmasterPid: number): boolean {
    const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmasterPid)], { encoding: 'utf8' });
    return ps.stdout.trim().length > 0;
  }

  async restart(): Promise<void> {
    if (this.process.running) await this.stop();
    await this.startProcess();
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
