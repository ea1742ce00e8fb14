import path from 'node:path';
import { compressionKinds, verifyLevels } from '../manifest.js';
import { cronExpected, cronValue, timeZoneExpected, timeZoneValue } from './cron.js';
import {
  databasesExpected,
  databasesFromFile,
  databasesValue,
  excludeExpected,
  excludeFromFile,
  excludeValue,
} from './discover-values.js';
import { drillServerExpected, drillServerValue } from './drill.js';
import { durationExpected, durationIn, maxTimerMs } from './duration.js';
import { describeType, fail, failMany, type Issue, ok, type Parsed } from './parsed.js';
import { defaultRetentionText, retentionExpected, retentionFromFile, retentionValue } from './retention.js';
import {
  sentinelListExpected,
  sentinelListFromFile,
  sentinelListValue,
  sentinelNameValue,
  yesNoValue,
} from './sentinel-values.js';
import { logLevels } from './types.js';
import {
  anyText,
  basePathValue,
  hostValue,
  httpUrlValue,
  oneOf,
  pathListValue,
  pathValue,
  queuePrefixValue,
  ratioValue,
  redisUrlValue,
  secretFileValue,
  trustProxyValue,
  userNameValue,
  wholeNumberIn,
} from './values.js';

/**
 * One global setting: its variable, its key in the config file (the key of `settings`), how to
 * parse it and its default. Variables, overrides and the file all go through the same parser.
 */
export interface Setting<T> {
  env: string;
  /** What a valid value looks like, with an example; ends every problem line. */
  expected: string;
  /** How a bad value is shown: `secret` as ***, `url` with its password replaced by ***. */
  show: 'plain' | 'secret' | 'url';
  /** `base` is the directory relative paths resolve against (cwd, or the config file's). */
  parse: (text: string, base: string) => Parsed<T>;
  /** The config file may give a number (read as its text), e.g. `concurrency: 4`. */
  numbers?: boolean;
  /** Reads file values that are neither text nor numbers (mappings, lists). */
  fromFile?: (raw: unknown, base: string) => Parsed<T>;
  /** Parsed like a variable's text, against the working directory. */
  defaultText?: string;
}

function setting<T>(definition: Setting<T>): Setting<T> {
  return definition;
}

const positive = (expected: string) =>
  `${durationExpected}, greater than 0 and at most 24 days (${expected})`;
const keyFileExpected = 'a file path, for example /run/secrets/backup.key';

export const settings = {
  backupDir: setting({
    env: 'BACKUP_DIR',
    expected: 'a directory path, for example /var/backups/postgres',
    show: 'plain',
    parse: pathValue,
    defaultText: './backups',
  }),
  logDir: setting({
    env: 'BACKUP_LOG_DIR',
    expected: 'a directory path, for example /var/log/pgbackup',
    show: 'plain',
    parse: pathValue,
    defaultText: './logs',
  }),
  schedule: setting({
    env: 'BACKUP_SCHEDULE',
    expected: cronExpected,
    show: 'plain',
    parse: cronValue,
    defaultText: '0 2 * * *',
  }),
  timeZone: setting({
    env: 'BACKUP_TZ',
    expected: timeZoneExpected,
    show: 'plain',
    parse: timeZoneValue,
    defaultText: 'UTC',
  }),
  retention: setting({
    env: 'BACKUP_RETENTION',
    expected: retentionExpected,
    show: 'plain',
    parse: retentionValue,
    fromFile: retentionFromFile,
    defaultText: defaultRetentionText,
  }),
  compression: setting({
    env: 'BACKUP_COMPRESSION',
    expected: `one of ${compressionKinds.join(', ')}`,
    show: 'plain',
    parse: oneOf(compressionKinds),
    defaultText: 'zstd',
  }),
  verify: setting({
    env: 'BACKUP_VERIFY',
    expected: `one of ${verifyLevels.join(', ')} (weakest first)`,
    show: 'plain',
    parse: oneOf(verifyLevels),
    defaultText: 'read',
  }),
  encryptionKeyFile: setting({
    env: 'BACKUP_ENCRYPTION_KEY_FILE',
    expected: keyFileExpected,
    show: 'plain',
    parse: pathValue,
  }),
  decryptionKeyFiles: setting({
    env: 'BACKUP_DECRYPTION_KEY_FILES',
    expected: 'comma-separated file paths, for example /keys/2024.key,/keys/2025.key',
    show: 'plain',
    parse: pathListValue,
    fromFile: pathListFromFile,
    defaultText: '',
  }),
  maxAge: setting({
    env: 'BACKUP_MAX_AGE',
    expected: `${durationExpected}, greater than 0 (for example 2d)`,
    show: 'plain',
    parse: durationIn(1, Number.MAX_SAFE_INTEGER),
    numbers: true,
  }),
  suspiciousRatio: setting({
    env: 'BACKUP_SUSPICIOUS_RATIO',
    expected: 'a number from 0 (disabled) to 1, for example 0.5',
    show: 'plain',
    parse: ratioValue,
    numbers: true,
    defaultText: '0.5',
  }),
  redisUrl: setting({
    env: 'REDIS_URL',
    expected: 'a redis:// or rediss:// URL, for example redis://127.0.0.1:6379',
    show: 'url',
    parse: redisUrlValue,
    defaultText: 'redis://127.0.0.1:6379',
  }),
  // Apart from the URL so that the password need not sit in a URL or on a command line; a
  // password in REDIS_URL together with one of these is refused (redis.ts).
  redisPassword: setting({
    env: 'REDIS_PASSWORD',
    expected: 'a password',
    show: 'secret',
    parse: anyText,
  }),
  redisPasswordFile: setting({
    env: 'REDIS_PASSWORD_FILE',
    expected: 'a readable file holding the password, for example /run/secrets/redis_password',
    show: 'plain',
    parse: secretFileValue,
  }),
  // Sentinel instead of REDIS_URL (refused together, redis.ts): every client asks the sentinels
  // which node is the primary, at start and after each failover.
  redisSentinels: setting({
    env: 'REDIS_SENTINELS',
    expected: sentinelListExpected,
    show: 'plain',
    parse: sentinelListValue,
    fromFile: sentinelListFromFile,
  }),
  redisSentinelName: setting({
    env: 'REDIS_SENTINEL_NAME',
    expected:
      'the master group name of `sentinel monitor`, 1 to 64 of A-Z a-z 0-9 . _ -, for example mymaster',
    show: 'plain',
    parse: sentinelNameValue,
  }),
  // The sentinels' own password (their requirepass); the data nodes take REDIS_PASSWORD[_FILE].
  redisSentinelPassword: setting({
    env: 'REDIS_SENTINEL_PASSWORD',
    expected: 'a password',
    show: 'secret',
    parse: anyText,
  }),
  redisSentinelPasswordFile: setting({
    env: 'REDIS_SENTINEL_PASSWORD_FILE',
    expected: 'a readable file holding the password, for example /run/secrets/redis_sentinel_password',
    show: 'plain',
    parse: secretFileValue,
  }),
  // With Sentinel there is no rediss:// to say "TLS": this says it, for sentinels and data nodes alike.
  redisSentinelTls: setting({
    env: 'REDIS_SENTINEL_TLS',
    expected: 'yes or no',
    show: 'plain',
    parse: yesNoValue,
    fromFile: (raw) => (typeof raw === 'boolean' ? ok(raw) : fail(`is ${describeType(raw)}`)),
    defaultText: 'no',
  }),
  queuePrefix: setting({
    env: 'BACKUP_QUEUE_PREFIX',
    expected: '1 to 64 of A-Z a-z 0-9 _ . : - { }, for example pgbackup',
    show: 'plain',
    parse: queuePrefixValue,
    defaultText: 'pgbackup',
  }),
  concurrency: setting({
    env: 'BACKUP_CONCURRENCY',
    expected: 'a whole number from 1 to 64, for example 2',
    show: 'plain',
    parse: wholeNumberIn(1, 64),
    numbers: true,
    defaultText: '2',
  }),
  attempts: setting({
    env: 'BACKUP_ATTEMPTS',
    expected: 'a whole number from 1 to 100, for example 5',
    show: 'plain',
    parse: wholeNumberIn(1, 100),
    numbers: true,
    defaultText: '5',
  }),
  backoff: setting({
    env: 'BACKUP_BACKOFF',
    expected: `${durationExpected}, at most 24 days (for example 30s)`,
    show: 'plain',
    parse: durationIn(0, maxTimerMs),
    numbers: true,
    defaultText: '30s',
  }),
  timeout: setting({
    env: 'BACKUP_TIMEOUT',
    expected: positive('for example 6h'),
    show: 'plain',
    parse: durationIn(1, maxTimerMs),
    numbers: true,
    defaultText: '6h',
  }),
  stallTimeout: setting({
    env: 'BACKUP_STALL_TIMEOUT',
    expected: positive('for example 10m'),
    show: 'plain',
    parse: durationIn(1, maxTimerMs),
    numbers: true,
    defaultText: '10m',
  }),
  shutdownTimeout: setting({
    env: 'BACKUP_SHUTDOWN_TIMEOUT',
    expected: `${durationExpected}, at most 24 days (for example 60s)`,
    show: 'plain',
    parse: durationIn(0, maxTimerMs),
    numbers: true,
    defaultText: '60s',
  }),
  jobLockDuration: setting({
    env: 'BACKUP_JOB_LOCK_MS',
    expected: `${durationExpected}, from 1s to 10m, identical on every worker (for example 30000)`,
    show: 'plain',
    parse: durationIn(1_000, 600_000),
    numbers: true,
    defaultText: '30000',
  }),
  stalledInterval: setting({
    env: 'BACKUP_STALLED_INTERVAL_MS',
    expected: `${durationExpected}, from 500ms to 10m, identical on every worker (for example 15000)`,
    show: 'plain',
    parse: durationIn(500, 600_000),
    numbers: true,
    defaultText: '15000',
  }),
  healthPort: setting({
    env: 'BACKUP_HEALTH_PORT',
    expected: 'a port from 1 to 65535, or 0 to disable the health endpoint, for example 3001',
    show: 'plain',
    parse: wholeNumberIn(0, 65535),
    numbers: true,
    defaultText: '3001',
  }),
  healthHost: setting({
    env: 'BACKUP_HEALTH_HOST',
    expected: 'a host name or IP address to listen on, for example 127.0.0.1 or 0.0.0.0',
    show: 'plain',
    parse: hostValue,
    defaultText: '127.0.0.1',
  }),
  // Shown as *** entirely: chat webhooks (Slack, Discord) carry their secret in the path.
  webhookUrl: setting({
    env: 'BACKUP_WEBHOOK_URL',
    expected: 'an http or https URL, for example https://hooks.example.com/backups',
    show: 'secret',
    parse: httpUrlValue,
  }),
  // A server target (discovery/): BACKUP_DISCOVER and BACKUP_DISCOVER_EXCLUDE apply to the
  // DATABASE_URL target only; a file target discovers with its own `databases:` and `exclude:`
  // (discover-target.ts), so one variable never turns every file target into a server.
  databases: setting({
    env: 'BACKUP_DISCOVER',
    expected: databasesExpected,
    show: 'plain',
    parse: databasesValue,
    fromFile: databasesFromFile,
  }),
  exclude: setting({
    env: 'BACKUP_DISCOVER_EXCLUDE',
    expected: excludeExpected,
    show: 'plain',
    parse: excludeValue,
    fromFile: excludeFromFile,
  }),
  // At most this many dumps of one server's discovered databases at once, over every worker.
  serverConcurrency: setting({
    env: 'BACKUP_SERVER_CONCURRENCY',
    expected: 'a whole number from 1 to 64, for example 2',
    show: 'plain',
    parse: wholeNumberIn(1, 64),
    numbers: true,
    defaultText: '2',
  }),
  // A server target's globals are dumped without role passwords (managed services that deny
  // pg_authid). Without it, a denied pg_authid still falls back, with a warning.
  noRolePasswords: setting({
    env: 'BACKUP_NO_ROLE_PASSWORDS',
    expected: 'yes or no',
    show: 'plain',
    parse: yesNoValue,
    fromFile: (raw) => (typeof raw === 'boolean' ? ok(raw) : fail(`is ${describeType(raw)}`)),
    defaultText: 'no',
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    expected: `one of ${logLevels.join(', ')}`,
    show: 'plain',
    parse: oneOf(logLevels),
    defaultText: 'info',
  }),
  // Restore drills (drill/drill.ts): where, how often, how many at once across the fleet.
  drill: setting({
    env: 'BACKUP_DRILL_DATABASE_URL',
    expected: drillServerExpected,
    show: 'url',
    parse: drillServerValue,
  }),
  drillSchedule: setting({
    env: 'BACKUP_DRILL_SCHEDULE',
    expected: cronExpected,
    show: 'plain',
    parse: cronValue,
    // Weekly, Sunday 04:00: after the nightly dumps, when the drill server is likeliest idle.
    defaultText: '0 4 * * 0',
  }),
  drillConcurrency: setting({
    env: 'BACKUP_DRILL_CONCURRENCY',
    expected: 'a whole number from 1 to 64, for example 1',
    show: 'plain',
    parse: wholeNumberIn(1, 64),
    numbers: true,
    defaultText: '1',
  }),
  drillMaxRto: setting({
    env: 'BACKUP_DRILL_MAX_RTO',
    expected: positive('for example 30m'),
    show: 'plain',
    parse: durationIn(1, maxTimerMs),
    numbers: true,
  }),
  drillAllowTargetServer: setting({
    env: 'BACKUP_DRILL_ALLOW_TARGET_SERVER',
    expected: 'yes or no',
    show: 'plain',
    parse: yesNoValue,
    fromFile: (raw) => (typeof raw === 'boolean' ? ok(raw) : fail(`is ${describeType(raw)}`)),
    defaultText: 'no',
  }),
  // No defaultText: the default is the machine's core count, known only at load (load.ts).
  restoreJobs: setting({
    env: 'BACKUP_RESTORE_JOBS',
    expected: 'a whole number from 1 to 64, for example 4 (default: the number of cores)',
    show: 'plain',
    parse: wholeNumberIn(1, 64),
    numbers: true,
  }),
  dashboardPort: setting({
    env: 'DASHBOARD_PORT',
    expected: 'a port from 1 to 65535, for example 3000',
    show: 'plain',
    parse: wholeNumberIn(1, 65535),
    numbers: true,
    defaultText: '3000',
  }),
  dashboardHost: setting({
    env: 'DASHBOARD_HOST',
    expected: 'a host name or IP address to listen on, for example 127.0.0.1 or 0.0.0.0',
    show: 'plain',
    parse: hostValue,
  }),
  dashboardBasePath: setting({
    env: 'DASHBOARD_BASE_PATH',
    expected: 'a URL path starting with /, for example /backups',
    show: 'plain',
    parse: basePathValue,
    defaultText: '/',
  }),
  dashboardTrustProxy: setting({
    env: 'DASHBOARD_TRUST_PROXY',
    expected:
      'the number of reverse proxies in front of the dashboard (1 to 10), or their addresses or CIDR ranges separated by commas, for example 1 or 10.0.0.0/8,127.0.0.1',
    show: 'plain',
    parse: trustProxyValue,
    numbers: true,
  }),
  dashboardUser: setting({
    env: 'DASHBOARD_USER',
    expected: 'a user name without a colon, for example admin',
    show: 'plain',
    parse: userNameValue,
    defaultText: 'admin',
  }),
  dashboardPassword: setting({
    env: 'DASHBOARD_PASSWORD',
    expected: 'a password',
    show: 'secret',
    parse: anyText,
  }),
  dashboardPasswordFile: setting({
    env: 'DASHBOARD_PASSWORD_FILE',
    expected: 'a readable file holding the password, for example /run/secrets/dashboard_password',
    show: 'plain',
    parse: secretFileValue,
  }),
  dashboardViewerUser: setting({
    env: 'DASHBOARD_VIEWER_USER',
    expected: 'a user name without a colon, for example viewer',
    show: 'plain',
    parse: userNameValue,
  }),
  dashboardViewerPassword: setting({
    env: 'DASHBOARD_VIEWER_PASSWORD',
    expected: 'a password',
    show: 'secret',
    parse: anyText,
  }),
  dashboardViewerPasswordFile: setting({
    env: 'DASHBOARD_VIEWER_PASSWORD_FILE',
    expected: 'a readable file holding the password, for example /run/secrets/viewer_password',
    show: 'plain',
    parse: secretFileValue,
  }),
};

export type Settings = typeof settings;
export type SettingKey = keyof Settings;
export type SettingValue<K extends SettingKey> = Settings[K] extends Setting<infer T> ? T : never;
export type SettingValues = { [K in SettingKey]?: SettingValue<K> };

export const settingKeys = Object.keys(settings) as SettingKey[];

/** The settings a target in the config file may set for itself. */
export const targetSettingKeys = [
  'schedule',
  'timeZone',
  'retention',
  'verify',
  'compression',
  'maxAge',
  'suspiciousRatio',
  'drill',
  'drillSchedule',
  'databases',
  'exclude',
  'serverConcurrency',
  'noRolePasswords',
] as const satisfies readonly SettingKey[];
export type TargetSettingKey = (typeof targetSettingKeys)[number];
export type TargetSettingValues = { [K in TargetSettingKey]?: SettingValue<K> };

/** Reads a setting's value from the config file: text as from a variable, or a typed value. */
export function settingFromFile<T>(definition: Setting<T>, raw: unknown, base: string): Parsed<T> {
  if (typeof raw === 'string') {
    const text = definition.show === 'secret' ? raw : raw.trim();
    return text === '' ? fail('is empty') : definition.parse(text, base);
  }
  if (typeof raw === 'number' && definition.numbers) return definition.parse(String(raw), base);
  if (definition.fromFile) return definition.fromFile(raw, base);
  return fail(`is ${describeType(raw)}`);
}

function pathListFromFile(raw: unknown, base: string): Parsed<string[]> {
  if (!Array.isArray(raw)) return fail(`is ${describeType(raw)}`);
  const issues: Issue[] = [];
  const paths: string[] = [];
  raw.forEach((item: unknown, index) => {
    if (typeof item === 'string' && item.trim() !== '') paths.push(path.resolve(base, item.trim()));
    else
      issues.push({
        problem: `is ${typeof item === 'string' ? 'empty' : describeType(item)}`,
        path: [index],
        expected: keyFileExpected,
      });
  });
  return issues.length > 0 ? failMany(issues) : ok(paths);
}
