import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findBinary } from './binaries.js';
import { HarnessError } from './errors.js';
import { freePort } from './free-port.js';
import { trackDirectory } from './reaper.js';
import { RedisServer } from './redis-server.js';
import { logTail, TrackedChild } from './tracked-child.js';
import { waitFor } from './wait.js';

export interface SentinelTopologyOptions {
  /** The master group name. Default `pgbackup`. */
  name?: string;
  /** requirepass and masterauth of both data nodes (the sentinels get it as auth-pass). */
  password?: string;
  /** requirepass of the sentinels (and sentinel-pass, which they use among themselves). */
  sentinelPassword?: string;
  /** Sentinel's `down-after-milliseconds`. Default 1000: a failover within a few seconds. */
  downAfterMs?: number;
  /**
   * Sentinel's `failover-timeout`. Default 3000. A sentinel waits twice this long before it
   * fails the same group over again: callers must space their failovers by that much.
   */
  failoverTimeoutMs?: number;
}

let serial = 0;

/** One `redis-server --sentinel` on 127.0.0.1 with its own sentinel.conf (Sentinel rewrites it). */
class SentinelProcess {
  readonly name = `sentinel-${process.pid}-${serial++}`;
  private readonly process = new TrackedChild(this.name);

  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly password: string | undefined,
  ) {}

  async start(lines: string[]): Promise<void> {
    const conf = path.join(this.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      `${[`port ${this.port}`, 'bind 127.0.0.1', `dir ${this.dir}`, ...lines].join('\n')}\n`,
    );
    const log = openSync(path.join(this.dir, 'sentinel.log'), 'a');
    const child = spawn(findBinary('redis-server'), [conf, '--sentinel'], { stdio: ['ignore', log, log] });
    this.process.attach(child, 'KILL');
    let exitedEarly = false;
    child.once('exit', () => {
      exitedEarly = true;
    });
    await waitFor(`Sentinel on port ${this.port}`, async () => {
      if (exitedEarly) throw new HarnessError(`redis-server --sentinel exited at start: ${this.logTail()}`);
      const client = this.client();
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    });
  }

  /** A short-lived client of this sentinel; the caller disconnects it. */
  client(): Redis {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(this.password === undefined ? {} : { password: this.password }),
    });
    client.on('error', () => undefined);
    return client;
  }

  async command(...args: string[]): Promise<unknown> {
    const client = this.client();
    try {
      await client.connect();
      return await client.call('SENTINEL', ...args);
    } finally {
      client.disconnect();
    }
  }

  logTail(lines = 20): string {
    return logTail(path.join(this.dir, 'sentinel.log'), lines);
  }

  async stop(): Promise<void> {
    await this.process.signalAndWait('SIGKILL');
  }
}

/**
 * One primary, one replica and three sentinels (quorum 2), all from the `redis-server` binary on
 * free loopback ports, each in a temporary directory the watchdog removes if the test dies.
 * Both data nodes run AOF everysec and noeviction, as production must.
 */
export class SentinelTopology {
  private constructor(
    readonly name: string,
    /** The two data nodes; which one is primary changes with each failover. */
    readonly nodes: RedisServer[],
    private readonly sentinels: SentinelProcess[],
    private readonly options: SentinelTopologyOptions,
  ) {}

  static async start(options: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const name = options.name ?? 'pgbackup';
    // Without a zero sync delay the first full sync waits 5 s, and a replica promoted before it
    // has synced comes up empty.
    const settings = { 'repl-diskless-sync-delay': '0' };
    const auth = options.password === undefined ? {} : { password: options.password };
    const primary = await RedisServer.start({ aof: true, settings, ...auth });
    const replica = await RedisServer.start({ aof: true, settings, ...auth, replicaOf: primary.port });
    const sentinels: SentinelProcess[] = [];
    const topology = new SentinelTopology(name, [primary, replica], sentinels, options);
    try {
      for (let i = 0; i < 3; i++) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'pgbackup-sentinel-'));
        trackDirectory(dir);
        const sentinel = new SentinelProcess(dir, await freePort(), options.sentinelPassword);
        sentinels.push(sentinel);
        // `sentinel monitor` must come before the lines that name the group.
        await sentinel.start([
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3_000}`,
          ...(options.password === undefined ? [] : [`sentinel auth-pass ${name} ${options.password}`]),
          ...(options.sentinelPassword === undefined
            ? []
            : [
                `requirepass ${options.sentinelPassword}`,
                `sentinel sentinel-pass ${options.sentinelPassword}`,
              ]),
        ]);
      }
      await topology.healthy();
    } catch (error) {
      await topology.destroy();
      throw error;
    }
    return topology;
  }

  /** `host:port,...` for REDIS_SENTINELS. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The port the first answering sentinel names as primary (`get-master-addr-by-name`). */
  async primaryPort(): Promise<number> {
    let lastError: unknown;
    for (const sentinel of this.sentinels) {
      try {
        const reply = (await sentinel.command('get-master-addr-by-name', this.name)) as
          | [string, string]
          | null;
        if (reply) return Number(reply[1]);
      } catch (error) {
        lastError = error;
      }
    }
    throw new HarnessError(`no sentinel names a primary for ${this.name}: ${String(lastError)}`);
  }

  /** Whether every sentinel names `port` as the primary. */
  async allAgreeOn(port: number): Promise<boolean> {
    for (const sentinel of this.sentinels) {
      const reply = (await sentinel.command('get-master-addr-by-name', this.name)) as [string, string] | null;
      if (Number(reply?.[1]) !== port) return false;
    }
    return true;
  }

  /** Waits until every sentinel names `port` as the primary (the failover is complete). */
  async waitForPrimary(port: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `the sentinels to name port ${port} primary of ${this.name}`,
      () => this.allAgreeOn(port),
      timeoutMs,
    );
  }

  node(port: number): RedisServer {
    const node = this.nodes.find((candidate) => candidate.port === port);
    if (!node) throw new HarnessError(`no data node on port ${port}`);
    return node;
  }

  /** INFO replication of a data node, as a record. */
  async replication(port: number): Promise<Record<string, string>> {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(this.options.password === undefined ? {} : { password: this.options.password }),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const text = await client.info('replication');
      return Object.fromEntries(
        text
          .split('\r\n')
          .filter((line) => line.includes(':'))
          .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
      );
    } finally {
      client.disconnect();
    }
  }

  /**
   * Ready for a failover: every sentinel agrees on the primary, the quorum is reachable, the other
   * node replicates with its link up and in step, and every sentinel sees that replica as healthy
   * (a failover needs a replica the sentinels consider fit).
   */
  async healthy(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `the Sentinel group ${this.name} to be healthy`,
      async () => {
        const primary = await this.primaryPort();
        if (!(await this.allAgreeOn(primary))) return false;
        const replicaPort = this.nodes.find((n) => n.port !== primary)!.port;
        const [master, replica] = await Promise.all([
          this.replication(primary),
          this.replication(replicaPort),
        ]);
        if (master.role !== 'master' || replica.role !== 'slave' || replica.master_link_status !== 'up')
          return false;
        if (Number(replica.master_port) !== primary || master.connected_slaves !== '1') return false;
        for (const sentinel of this.sentinels) {
          const quorum = String(await sentinel.command('ckquorum', this.name));
          if (!quorum.startsWith('OK 3 usable')) return false;
          const replicas = (await sentinel.command('replicas', this.name)) as string[][];
          const healthy = replicas.some((fields) => {
            const info = Object.fromEntries(
              fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])),
            );
            // Only the flags: master-link-status comes from an INFO a sentinel refreshes every 10 s.
            return Number(info.port) === replicaPort && info.flags === 'slave';
          });
          if (!healthy) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** For error messages: the tail of every log. */
  logs(): string {
    return [
      ...this.nodes.map((n) => `--- redis ${n.port}\n${n.logTail(10)}`),
      ...this.sentinels.map((s) => `--- sentinel ${s.port}\n${s.logTail(10)}`),
    ].join('\n');
  }

  async destroy(): Promise<void> {
    for (const sentinel of this.sentinels) {
      await sentinel.stop();
      rmSync(sentinel.dir, { recursive: true, force: true });
    }
    for (const node of this.nodes) await node.destroy();
  }
}
