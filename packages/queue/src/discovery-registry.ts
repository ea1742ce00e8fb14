import {
  type BackupConfig,
  type DiscoveredDatabase,
  discoveredTarget,
  globalsTarget,
  type TargetConfig,
} from '@pgbackup/backup-core';
import type { Redis } from 'ioredis';

/**
 * The databases each server target has discovered, in Redis so that every worker, backupctl and
 * the dashboard see the same set, whichever worker ran the discovery. Two hashes per server, a
 * field per target name holding `{database, since}`: `present` (backed up at every run) and
 * `vanished` (no longer on the server; its backups stay under retention). A change is announced
 * by the one caller whose HSETNX or HDEL changed the field, so several workers discovering at
 * once announce each database once.
 */
function key(prefix: string, server: string, kind: 'present' | 'vanished'): string {
  return `${prefix}:discovery:${server}:${kind}`;
}

export interface RegistryEntry {
  database: string;
  target: string;
  /** When it was first seen (present) or found gone (vanished), ISO. */
  since: string;
}

export interface DiscoveryChanges {
  /** Newly present: this caller announces them. */
  added: RegistryEntry[];
  /** Newly gone: this caller announces them. */
  vanished: RegistryEntry[];
}

/** Records one discovery of `server`: `found` is every database it backs up now. */
export async function recordDiscovery(
  redis: Redis,
  prefix: string,
  server: string,
  found: readonly DiscoveredDatabase[],
  now = new Date(),
): Promise<DiscoveryChanges> {
  const since = now.toISOString();
  const present = key(prefix, server, 'present');
  const gone = key(prefix, server, 'vanished');
  const added: RegistryEntry[] = [];
  for (const item of found) {
    const value = JSON.stringify({ database: item.database, since });
    if ((await redis.hsetnx(present, item.target, value)) === 1) {
      await redis.hdel(gone, item.target);
      added.push({ ...item, since });
    }
  }
  const wanted = new Set(found.map((item) => item.target));
  const vanished: RegistryEntry[] = [];
  for (const [target, raw] of Object.entries(await redis.hgetall(present))) {
    if (wanted.has(target)) continue;
    const entry = parseEntry(target, raw);
    // HDEL answers 1 to one caller only: the one that announces.
    if ((await redis.hdel(present, target)) === 1 && entry) {
      await redis.hset(gone, target, JSON.stringify({ database: entry.database, since }));
      vanished.push({ database: entry.database, target, since });
    }
  }
  return { added, vanished };
}

export interface ServerDiscovery {
  present: RegistryEntry[];
  vanished: RegistryEntry[];
}

export async function readDiscovery(redis: Redis, prefix: string, server: string): Promise<ServerDiscovery> {
  const read = async (kind: 'present' | 'vanished') =>
    Object.entries(await redis.hgetall(key(prefix, server, kind)))
      .map(([target, raw]) => parseEntry(target, raw))
      .filter((entry): entry is RegistryEntry => entry !== undefined)
      .sort((a, b) => a.target.localeCompare(b.target));
  return { present: await read('present'), vanished: await read('vanished') };
}

/**
 * The target called `name` if a server target of `config` discovered it (present or vanished: a
 * vanished database's backups are still pruned with its server's retention).
 */
export async function findDiscoveredTarget(
  redis: Redis,
  config: BackupConfig,
  name: string,
): Promise<(TargetConfig & { vanished: boolean }) | undefined> {
  for (const server of config.targets) {
    if (!server.discover || !name.startsWith(`${server.name}.`)) continue;
    if (name === globalsTarget(server).name) return { ...globalsTarget(server), vanished: false };
    for (const kind of ['present', 'vanished'] as const) {
      const raw = await redis.hget(key(config.redis.prefix, server.name, kind), name);
      const entry = raw === null ? undefined : parseEntry(name, raw);
      if (entry) return { ...discoveredTarget(server, entry), vanished: kind === 'vanished' };
    }
  }
  return undefined;
}

/**
 * Every target as status, schedules and alerts see them: each plain target, each server target,
 * its globals (`<server>.globals`), then the databases it discovered that are still on the server.
 */
export async function withDiscoveredTargets(redis: Redis, config: BackupConfig): Promise<TargetConfig[]> {
  const targets: TargetConfig[] = [];
  for (const target of config.targets) {
    targets.push(target);
    if (!target.discover) continue;
    targets.push(globalsTarget(target));
    const { present } = await readDiscovery(redis, config.redis.prefix, target.name);
    for (const entry of present) targets.push(discoveredTarget(target, entry));
  }
  return targets;
}

function parseEntry(target: string, raw: string): RegistryEntry | undefined {
  try {
    const value = JSON.parse(raw) as { database?: unknown; since?: unknown };
    if (typeof value.database !== 'string') return undefined;
    return { target, database: value.database, since: typeof value.since === 'string' ? value.since : '' };
  } catch {
    return undefined;
  }
}
