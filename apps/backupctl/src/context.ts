import {
  type BackupConfig,
  type ConfigProblem,
  isBackupError,
  loadConfig,
  localDefaultNotice,
  redactUrl,
} from '@pgbackup/backup-core/catalog';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CliError, exitCodes } from './exit-codes.js';
import { createOutput, type Output } from './output.js';

/** Options every command accepts; each maps to the variable the worker reads. */
export interface GlobalOptions {
  config?: string;
  backupDir?: string;
  redisUrl?: string;
  prefix?: string;
  json?: boolean;
}

/** Whether a command that reads Redis could (status, schedules print it in --json). */
export interface RedisState {
  reachable: boolean;
  error?: string;
}

/** Flag -> variable: the CLI and the worker read one schema, with the flag winning. */
export const globalFlagVariables = {
  config: { flag: '--config', variable: 'BACKUP_CONFIG' },
  backupDir: { flag: '--backup-dir', variable: 'BACKUP_DIR' },
  redisUrl: { flag: '--redis-url', variable: 'REDIS_URL' },
  prefix: { flag: '--prefix', variable: 'BACKUP_QUEUE_PREFIX' },
} as const;

/** How long to wait for Redis before calling it unreachable (exit 3). */
const redisConnectTimeoutMs = 5_000;

/**
 * One command's world: its configuration (parsed once, on first use) and a Redis connection
 * opened only when the command needs the queue, so `backups` or `prune --dry-run` work with
 * Redis down.
 */
export class CliContext {
  readonly out: Output;
  private readonly configs = new Map<boolean, BackupConfig>();
  private connection: Redis | undefined;
  private queuePromise: Promise<Queue> | undefined;

  constructor(
    private readonly globals: GlobalOptions,
    private readonly env: Record<string, string | undefined> = process.env,
  ) {
    this.out = createOutput(globals.json === true);
  }

  get json(): boolean {
    return this.out.json;
  }

  /** The configuration; `requireTargets: false` for commands that work without any target. */
  config(options: { requireTargets?: boolean } = {}): BackupConfig {
    const requireTargets = options.requireTargets ?? true;
    const cached = this.configs.get(requireTargets);
    if (cached) return cached;
    const overrides: Record<string, string> = {};
    for (const [key, { variable }] of Object.entries(globalFlagVariables)) {
      const value = this.globals[key as keyof typeof globalFlagVariables];
      if (value !== undefined) overrides[variable] = value;
    }
    let config: BackupConfig;
    try {
      config = loadConfig({ env: this.env, overrides, requireTargets, localDefault: true });
    } catch (error) {
      if (isBackupError(error, 'CONFIG_INVALID')) throw configError(error.message, error.details?.problems);
      throw error;
    }
    // On stderr, never in the --json document: said once per command, like the worker says it.
    if (config.localDefault && this.configs.size === 0) this.out.note(`backupctl: ${localDefaultNotice}`);
    this.configs.set(requireTargets, config);
    return config;
  }

  /** The backups queue on a fail-fast connection; Redis unreachable is CliError exit 3. */
  queue(): Promise<Queue> {
    this.queuePromise ??= this.openQueue();
    return this.queuePromise;
  }

  /**
   * Behind Sentinel, waits (at most 2 s) for a replica to hold what this command enqueued, and says
   * so when none does: replication is asynchronous, and a failover before the replica has the job
   * would lose it although it was acknowledged. Without Sentinel there is no replica to wait for.
   */
  async confirmReplicated(): Promise<void> {
    if (!this.config({ requireTargets: false }).redis.sentinel) return;
    const { replicaAckTimeoutMs, replicasConfirming } = await import('@pgbackup/queue');
    const replicas = await replicasConfirming(await this.redis()).catch(() => 0);
    if (replicas > 0) return;
    this.out.note(
      `backupctl: warning: no replica confirmed the job within ${replicaAckTimeoutMs / 1000} s: it is on the Redis primary only, ` +
        'and a failover now would lose it. Check with `backupctl jobs` after the failover, and enqueue it again if it is missing.',
    );
  }

  /** The fail-fast connection under the queue, for the few reads that are not the queue's own. */
  async redis(): Promise<Redis> {
    await this.queue();
    return this.connection!;
  }

  private async openQueue(): Promise<Queue> {
    const config = this.config({ requireTargets: false });
    // Loaded here, not at the top: BullMQ and ioredis are most of backupctl's start-up time, and
    // `backups`, `prune --dry-run` and `restore --direct` never open the queue.
    const { createBackupQueue, createCommandConnection, redisAuthFailure } = await import('@pgbackup/queue');
    const connection = createCommandConnection(config.redis);
    this.connection = connection;
    let lastError: Error | undefined;
    connection.on('error', (error: Error) => {
      lastError = error;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.connect().then(() => connection.ping()),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${redisConnectTimeoutMs / 1000} s`)),
            redisConnectTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const auth = redisAuthFailure(error, config.redis.url) ?? redisAuthFailure(lastError, config.redis.url);
      if (auth) {
        throw new CliError(
          auth.code,
          auth.message,
          exitCodes.usage,
          'The password comes from --redis-url, REDIS_PASSWORD_FILE, REDIS_PASSWORD or the config file.',
        );
      }
      const reason = lastError?.message ?? (error as Error).message;
      throw redisUnreachable(config.redis.url, reason);
    } finally {
      clearTimeout(timer);
    }
    return createBackupQueue(config, connection);
  }

  /** Closes the queue and its connection, if the command opened them. */
  async close(): Promise<void> {
    const queue = this.queuePromise ? await this.queuePromise.catch(() => undefined) : undefined;
    await queue?.close().catch(() => undefined);
    this.connection?.disconnect();
  }
}

export function redisUnreachable(url: string, reason: string): CliError {
  return new CliError(
    'REDIS_UNREACHABLE',
    `cannot reach Redis at ${redactUrl(url)} (${reason})`,
    exitCodes.unreachable,
    'Is Redis running? The URL comes from --redis-url, REDIS_URL or the config file. ' +
      '`backupctl backups`, `prune --dry-run` and `restore --direct` work without Redis.',
  );
}

/** CONFIG_INVALID, with each problem that came from a flag named by its flag. */
function configError(message: string, problems: unknown): CliError {
  const items = Array.isArray(problems) ? (problems as ConfigProblem[]) : undefined;
  const lines = items
    ? items.map((item) => {
        const flag = Object.values(globalFlagVariables).find((entry) => entry.variable === item.where)?.flag;
        const where = item.source === 'override' && flag ? `${flag} (${item.where})` : item.where;
        return `  ${where}${item.value === undefined ? '' : `=${item.value}`}: ${item.problem}`;
      })
    : message.split('\n').map((line) => `  ${line}`);
  return new CliError(
    'CONFIG_INVALID',
    `the configuration is invalid:\n${lines.join('\n')}`,
    exitCodes.usage,
    'Variables are listed in packages/backup-core/src/config/README.md; flags win over variables, which win over the --config file.',
  );
}
