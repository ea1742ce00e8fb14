import os from 'node:os';
import path from 'node:path';
import { envDestinationName, readEnvDestination, readFileDestinations } from './destinations.js';
import { readEnvTarget } from './env-target.js';
import { readConfigFile } from './file.js';
import { type AllLayers, pick, readLayers } from './layers.js';
import { localDefaultUrl, usesLocalDefault } from './local-default.js';
import { optional } from './optional.js';
import { ProblemList, quote } from './problems.js';
import { redisConfig } from './redis.js';
import { checkAssembledConfig } from './schema.js';
import { type ConfigSection, sectionReader } from './section.js';
import { assembleTargets, required } from './targets.js';
import type { BackupConfig, DestinationConfig, LoadConfigOptions } from './types.js';
import { postgresUrlExpected } from './url.js';
import { Variables } from './variables.js';

/** Sections apps own (section.ts), by the key their value gets in the loaded configuration. */
export type ConfigSections = Record<string, ConfigSection<unknown>>;
export type WithSections<S extends ConfigSections> = BackupConfig & {
  [K in keyof S]: S[K] extends ConfigSection<infer T> ? T : never;
};

/**
 * Reads the whole configuration once, at start: overrides (CLI flags) > environment > config
 * file (BACKUP_CONFIG) > defaults. Every problem found is reported in one CONFIG_INVALID error,
 * a line each, so a deployment is fixed in one round rather than one variable per restart.
 * An app's own `sections` are read in the same pass (the dashboard's listener and accounts).
 */
export function loadConfig(options?: LoadConfigOptions): BackupConfig;
export function loadConfig<S extends ConfigSections>(
  options: LoadConfigOptions & { sections: S },
): WithSections<S>;
export function loadConfig(
  options: LoadConfigOptions & { sections?: ConfigSections } = {},
): BackupConfig & Record<string, unknown> {
  const { overrides = {}, cwd = process.cwd(), requireTargets = true } = options;
  const root = path.resolve(cwd);
  let env = options.env ?? process.env;
  const localDefault = options.localDefault === true && usesLocalDefault(new Variables(env, overrides));
  if (localDefault) env = { ...env, DATABASE_URL: localDefaultUrl };
  const vars = new Variables(env, overrides);
  const problems = new ProblemList();

  const configVariable = vars.get('BACKUP_CONFIG');
  const file = configVariable && readConfigFile(configVariable, root, problems);
  const layers = readLayers(vars, file, root, problems);
  const envTarget = readEnvTarget(vars, root, problems);
  const destinations = readDestinations(vars, file, root, layers, problems);
  const targets = assembleTargets(
    file,
    envTarget,
    layers,
    problems,
    destinations.map((destination) => destination.name),
  );
  const reader = sectionReader(layers, file, problems);
  const sections = Object.fromEntries(
    Object.entries(options.sections ?? {}).map(([key, section]) => [key, section.read(reader)]),
  );
  const redis = redisConfig(layers, file, problems);

  // Only when nothing else is wrong: a broken file or DATABASE_URL is the likelier cause.
  if (requireTargets && targets.length === 0 && problems.count === 0) {
    problems.add({
      where: 'targets',
      problem: `no database to back up is configured; expected DATABASE_URL (for example ${postgresUrlExpected}) or BACKUP_CONFIG naming a file with targets`,
      source: 'config',
    });
  }
  if (problems.count > 0) throw problems.toError();

  const config = checkAssembledConfig({
    targets,
    destinations,
    backupDir: required(layers.backupDir),
    logDir: required(layers.logDir),
    ...optional('encryptionKeyFile', pick(layers.encryptionKeyFile)),
    decryptionKeyFiles: required(layers.decryptionKeyFiles),
    redis,
    worker: {
      concurrency: required(layers.concurrency),
      attempts: required(layers.attempts),
      backoffMs: required(layers.backoff),
      timeoutMs: required(layers.timeout),
      stallTimeoutMs: required(layers.stallTimeout),
      shutdownTimeoutMs: required(layers.shutdownTimeout),
      lockDurationMs: required(layers.jobLockDuration),
      stalledIntervalMs: required(layers.stalledInterval),
      healthPort: required(layers.healthPort),
      healthHost: required(layers.healthHost),
      ...optional('webhookUrl', pick(layers.webhookUrl)),
    },
    drill: {
      concurrency: required(layers.drillConcurrency),
      ...optional('maxRtoMs', pick(layers.drillMaxRto)),
      allowTargetServer: required(layers.drillAllowTargetServer),
    },
    restoreJobs: pick(layers.restoreJobs) ?? Math.min(64, os.availableParallelism()),
    logLevel: required(layers.logLevel),
    ...(localDefault ? { localDefault: true as const } : {}),
  });
  return { ...config, ...sections };
}

/** The file's `destinations:`, then the one the BACKUP_S3_* variables describe (named `s3`). */
function readDestinations(
  vars: Variables,
  file: ReturnType<typeof readConfigFile>,
  root: string,
  layers: AllLayers,
  problems: ProblemList,
): DestinationConfig[] {
  const retention = pick(layers.retention);
  if (retention === undefined) return [];
  const destinations =
    file?.destinations === undefined
      ? []
      : readFileDestinations(file.destinations, file.label, file.base, retention, problems);
  const fromEnv = readEnvDestination(vars, root, retention, problems);
  if (fromEnv) {
    if (destinations.some((destination) => destination.name === envDestinationName)) {
      problems.add({
        where: 'BACKUP_S3_BUCKET',
        value: quote(fromEnv.bucket),
        problem: `describes the destination ${envDestinationName}, which the config file also defines; expected one of them`,
        source: 'env',
      });
    } else destinations.push(fromEnv);
  }
  return destinations;
}
