import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findBinary } from './binaries.js';
import { HarnessError } from './errors.js';
import { freePort } from './free-port.js';
import { trackDirectory } from './reaper.js';
import { logTail, TrackedChild } from './tracked-child.js';
import { waitFor } from './wait.js';

export interface RedisServerOptions {
  /** Append-only file with fsync every second, as production must run. Default: no persistence. */
  aof?: boolean;
  /** Extra `--name value` settings passed to redis-server. */
  settings?: Record<string, string>;
  /**
   * Require this password (`requirepass`), as the compose files' Redis does. It is passed on
   * redis-server's command line, which is fine for a private test server; `url` stays without it.
   * Default: no password.
   */
  password?: string;
  /**
   * Start as a replica of the primary on 127.0.0.1 and this port (with `password` as its
   * masterauth). Default: a primary.
   */
  replicaOf?: number;
}

let serial = 0;

/** A private redis-server on 127.0.0.1 and a free port, with its own directory. */
export class RedisServer {
  readonly name = `redis-${process.pid}-${serial++}`;
  private readonly process = new TrackedChild(this.name);

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    findBinary('redis-server');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-redis-'));
    trackDirectory(dir);
    const server = new RedisServer(dir, await freePort(), options);
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The password clients must send, when the server was started with one. */
  get password(): string | undefined {
    return this.options.password;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  private async startProcess(): Promise<void> {
    const persistence = this.options.aof
      ? ['--appendonly', 'yes', '--appendfsync', 'everysec']
      : ['--appendonly', 'no'];
    const extra = Object.entries(this.options.settings ?? {}).flatMap(([key, value]) => [`--${key}`, value]);
    // masterauth too: any node may become a replica after a failover and must log in to the primary.
    const auth =
      this.options.password === undefined
        ? []
        : ['--requirepass', this.options.password, '--masterauth', this.options.password];
    const replica =
      this.options.replicaOf === undefined
        ? []
        : ['--replicaof', '127.0.0.1', String(this.options.replicaOf)];
    const log = openSync(path.join(this.dir, 'redis.log'), 'a');
    const child = spawn(
      findBinary('redis-server'),
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--daemonize',
        'no',
        '--maxmemory-policy',
        'noeviction',
        ...persistence,
        ...auth,
        ...replica,
        ...extra,
      ],
      { stdio: ['ignore', log, log] },
    );
    this.process.attach(child, 'KILL');
    let exitedEarly = false;
    child.once('exit', () => {
      exitedEarly = true;
    });
    await waitFor(`Redis on port ${this.port}`, async () => {
      if (exitedEarly) throw new HarnessError(`redis-server exited at start: ${this.logTail()}`);
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(this.options.password === undefined ? {} : { password: this.options.password }),
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    });
  }

  logTail(lines = 20): string {
    return logTail(path.join(this.dir, 'redis.log'), lines);
  }

  /** Clean shutdown (SIGTERM; with AOF on, the file is flushed). */
  async stop(): Promise<void> {
    await this.process.signalAndWait('SIGTERM');
  }

  /** Crash: SIGKILL, nothing flushed beyond what AOF everysec already wrote. */
  async kill(): Promise<void> {
    await this.process.signalAndWait('SIGKILL');
  }

  /**
   * Stops (if running) and starts again on the same port and directory. `replicaOf` changes what
   * the server replicates from, as an operator restarting a failed-over primary would do.
   */
  async restart(change: Pick<RedisServerOptions, 'replicaOf'> = {}): Promise<void> {
    if (this.process.running) await this.stop();
    if ('replicaOf' in change) this.options.replicaOf = change.replicaOf;
    await this.startProcess();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
