import { defaultMaxAgeMs } from './cron.js';
import { discoverSettings } from './discover-target.js';
import type { EnvTarget } from './env-target.js';
import type { ConfigFile } from './file.js';
import type { FileTarget } from './file-target.js';
import { type AllLayers, type Layers, pickForTarget } from './layers.js';
import { type ProblemList, quote } from './problems.js';
import type { TargetSettingValues } from './settings.js';
import { completeTls } from './tls.js';
import type { PgConnection, TargetConfig } from './types.js';
import { displayUrl } from './url.js';

/**
 * The file's targets, in order, then the environment's. An environment target named like a file
 * target replaces only that target's connection: the file keeps its schedule and retention, and
 * the secret can come from the environment (or a Docker secret) instead of the file.
 */
export function assembleTargets(
  file: ConfigFile | undefined,
  envTarget: EnvTarget | undefined,
  layers: AllLayers,
  problems: ProblemList,
  destinationNames: readonly string[] = [],
): TargetConfig[] {
  const targets: TargetConfig[] = [];
  const entries = new Map<string, FileTarget>();
  for (const target of file?.targets ?? []) {
    const first = entries.get(target.name);
    if (first) {
      problems.add({
        where: `${target.where}.name`,
        value: quote(target.name),
        problem: `is also the name of ${first.entry}; expected a unique name for each target`,
        source: 'file',
      });
      continue;
    }
    entries.set(target.name, target);
    for (const [index, name] of (target.destinations ?? []).entries()) {
      if (destinationNames.includes(name)) continue;
      problems.add({
        where: `${target.where}.destinations[${index}]`,
        value: quote(name),
        problem: `is not a configured destination; expected one of: ${destinationNames.join(', ') || '(none configured)'}`,
        source: 'file',
      });
    }
    const built = buildTarget(
      target.name,
      target.connection,
      target.settings,
      layers,
      target.where,
      problems,
      target.destinations ?? [...destinationNames],
    );
    if (built) targets.push(built);
  }
  if (envTarget) {
    const existing = targets.find((target) => target.name === envTarget.name);
    if (existing) {
      // TLS field by field: DATABASE_URL carrying only the password must not quietly turn the
      // file's sslMode verify-full back into the default prefer.
      const tls = completeTls({ ...existing.connection.tls, ...envTarget.tlsParts });
      const { tls: _envTls, ...connection } = envTarget.connection;
      if (!tls.ok) {
        problems.addIssues(tls.issues, {
          where: `DATABASE_URL, PGSSL* with ${entries.get(existing.name)?.where}`,
          source: 'env',
          expected: '',
        });
      }
      existing.connection = tls.ok && tls.value ? { ...connection, tls: tls.value } : connection;
      existing.displayUrl = displayUrl(envTarget.connection);
    } else {
      const built = buildTarget(envTarget.name, envTarget.connection, {}, layers, 'DATABASE_URL', problems, [
        ...destinationNames,
      ]);
      if (built) targets.push(built);
    }
  }
  return targets;
}

function buildTarget(
  name: string,
  connection: PgConnection,
  own: TargetSettingValues,
  layers: AllLayers,
  where: string,
  problems: ProblemList,
  destinations: string[],
): TargetConfig | undefined {
  const schedule = required(layers.schedule, own.schedule);
  const timeZone = required(layers.timeZone, own.timeZone);
  let maxAgeMs = pickForTarget(layers.maxAge, own.maxAge);
  if (maxAgeMs === undefined) {
    try {
      maxAgeMs = defaultMaxAgeMs(schedule, timeZone);
    } catch {
      problems.add({
        where,
        problem: `schedule ${quote(schedule)} in ${timeZone} has no upcoming runs; expected a schedule that runs, or a max age`,
        source: where === 'DATABASE_URL' ? 'env' : 'file',
      });
      return undefined;
    }
  }
  const retention = required(layers.retention, own.retention);
  if (retention.untilCopied && destinations.length === 0) {
    problems.add({
      where,
      problem:
        'has retention 0 (keep each backup only until every destination has a copy) but no destination; expected a destination (BACKUP_S3_BUCKET or destinations:) or a retention like daily=7,weekly=4,monthly=12',
      source: where === 'DATABASE_URL' ? 'env' : 'file',
    });
    return undefined;
  }
  return {
    name,
    connection,
    displayUrl: displayUrl(connection),
    schedule,
    timeZone,
    // A copy: the policy object is shared by every target that uses the global value.
    retention: { ...retention },
    verify: required(layers.verify, own.verify),
    compression: required(layers.compression, own.compression),
    maxAgeMs,
    suspiciousRatio: required(layers.suspiciousRatio, own.suspiciousRatio),
    destinations,
    drill: {
      ...optionalServer(pickForTarget(layers.drill, own.drill)),
      schedule: required(layers.drillSchedule, own.drillSchedule),
    },
    ...discoverSettings(name, own, layers, where, problems),
  };
}

function optionalServer(server: PgConnection | undefined): { server?: PgConnection } {
  return server === undefined ? {} : { server };
}

/** Settings with a default always have a value; a missing one is a bug in the settings table. */
export function required<T>(layers: Layers<T>, own?: T): T {
  const value = pickForTarget(layers, own);
  if (value === undefined) throw new Error('configuration setting without a default');
  return value;
}
