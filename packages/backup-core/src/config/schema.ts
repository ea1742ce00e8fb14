import { z } from 'zod';
import { BackupError } from '../errors.js';
import { compressionKinds, verifyLevels } from '../manifest.js';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const wholeNumber = z.number().int().nonnegative();
const positiveMs = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

/** libpq's sslmode values, weakest first. */
export const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

/**
 * TLS to the target, with libpq's meanings (see postgres/tls.ts for how node-pg follows them).
 * Absent means libpq's default, `prefer`. Paths are absolute and were readable at load.
 */
export const pgTlsSchema = z.object({
  mode: z.enum(sslModes),
  /** The CA certificates the server's certificate must chain to (sslrootcert). */
  rootCert: z.string().startsWith('/').optional(),
  /** Client certificate and its key (sslcert, sslkey); both or neither. */
  cert: z.string().startsWith('/').optional(),
  key: z.string().startsWith('/').optional(),
});

/** Where a target database is. The password stays in memory; it is never shown or logged. */
export const pgConnectionSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  user: z.string().min(1),
  password: z.string().optional(),
  database: z.string().min(1),
  tls: pgTlsSchema.optional(),
});

/** How many backups of each kind of period to keep, and the floor of verified ones. */
export const retentionPolicySchema = z.object({
  daily: wholeNumber,
  weekly: wholeNumber,
  monthly: wholeNumber,
  yearly: wholeNumber,
  /** This many newest verified backups survive pruning whatever their age. */
  minVerified: z.number().int().min(1),
  /** Retention `0`, local only: keep each backup until every destination has a confirmed copy. */
  untilCopied: z.boolean().optional(),
});

export const targetConfigSchema = z.object({
  /** Letters, digits, `_ . -`, at most 63: safe in paths, job ids and commands. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/),
  connection: pgConnectionSchema,
  /** `postgresql://user@host:port/db`; never contains the password. */
  displayUrl: z.string(),
  /** Cron, 5 fields or 6 with seconds first. Default `0 2 * * *`. */
  schedule: z.string(),
  /** IANA zone the schedule is read in. Default `UTC`. */
  timeZone: z.string(),
  retention: retentionPolicySchema,
  /** Default `read`. */
  verify: z.enum(verifyLevels),
  /** Default `zstd`. */
  compression: z.enum(compressionKinds),
  /** No verified backup for longer than this means stale. Default: from the schedule. Compared, never
   *  used as a timer, so a monthly schedule's two months are fine. */
  maxAgeMs: z.number().int().positive(),
  /** A dump smaller than this fraction of the previous verified one is suspicious; 0 disables. Default 0.5. */
  suspiciousRatio: z.number().min(0).max(1),
  /** Names of the destinations every backup is copied to. Default: every configured destination. */
  destinations: z.array(z.string()),
  /**
   * Restore drills: `server` (BACKUP_DRILL_DATABASE_URL or the target's `drill`; unset: no
   * scheduled drill) and `schedule` (BACKUP_DRILL_SCHEDULE or the target's `drillSchedule`,
   * default weekly `0 4 * * 0`, read in the target's time zone).
   */
  drill: z.object({ server: pgConnectionSchema.optional(), schedule: z.string() }),
  /**
   * Set on a server target (`databases:` in the file, BACKUP_DISCOVER): its scheduled run lists
   * the server's databases and backs up each as its own target `<server>.<database>`.
   */
  discover: z
    .object({
      databases: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]),
      /** Default []. */
      exclude: z.array(z.string().min(1)),
      /** Dumps of this server's databases at once, over every worker. Default 2. */
      concurrency: z.number().int().min(1).max(64),
      /** Globals dumped with --no-role-passwords. Default false (and a fallback when denied). */
      noRolePasswords: z.boolean(),
    })
    .optional(),
  /** Set on a discovered target: the name of the server target that found it. */
  server: z.string().optional(),
});

/**
 * An S3-compatible bucket backups are copied to. Credentials: the SDK's default chain unless
 * `credentials` is set (from an access key id and a secret file); the secret is never shown.
 */
export const destinationConfigSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/),
  /** Unset for AWS. */
  endpoint: z.string().optional(),
  /** Default `us-east-1`. */
  region: z.string().min(1),
  bucket: z.string().min(3),
  /** Without leading or trailing slash; '' puts targets at the bucket's root. Default ''. */
  prefix: z.string(),
  /** Default: true with a custom endpoint, false for AWS. */
  forcePathStyle: z.boolean(),
  storageClass: z.string().optional(),
  serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
  kmsKeyId: z.string().optional(),
  /** Default: WHEN_REQUIRED with a custom endpoint, WHEN_SUPPORTED for AWS. */
  checksums: z.enum(['WHEN_REQUIRED', 'WHEN_SUPPORTED']),
  /** The provider's part limit for one multipart upload. Default 10,000. */
  maxParts: z.number().int().min(1).max(10_000),
  /** Default: the global retention. */
  retention: retentionPolicySchema,
  credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }).optional(),
});

/**
 * The resolved configuration: the one schema the worker, backupctl and the dashboard share.
 * `loadConfig` turns flags, environment and file into this shape (with messages naming each
 * variable), and the result is checked against it before anyone uses it.
 */
export const backupConfigSchema = z.object({
  targets: z.array(targetConfigSchema),
  /** Offsite copies. Default []. */
  destinations: z.array(destinationConfigSchema),
  /** Absolute. Default `./backups` against the working directory. */
  backupDir: z.string().startsWith('/'),
  /** Absolute. Default `./logs` against the working directory. */
  logDir: z.string().startsWith('/'),
  /** Key new backups are encrypted with; unset means no encryption. */
  encryptionKeyFile: z.string().optional(),
  /** Older keys, kept to read backups made before a key rotation. Default []. */
  decryptionKeyFiles: z.array(z.string()),
  /**
   * Defaults `redis://127.0.0.1:6379` and `pgbackup`. `password` (REDIS_PASSWORD or
   * REDIS_PASSWORD_FILE) is given apart from the URL, never together with a password in it.
   */
  redis: z.object({
    /**
     * What clients dial, and what logs and errors show (redacted). With Sentinel it only names
     * the group, `sentinel://host:port,host:port/<name>`: the factory dials `sentinel` instead.
     */
    url: z.string(),
    prefix: z.string().min(1),
    password: z.string().optional(),
    /**
     * REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD[_FILE], REDIS_SENTINEL_TLS
     * (default no): ask these sentinels for the primary of group `name`. Unset: REDIS_URL.
     */
    sentinel: z
      .object({
        nodes: z
          .array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) }))
          .min(1),
        name: z.string().min(1),
        password: z.string().optional(),
        tls: z.boolean(),
      })
      .optional(),
  }),
  /**
   * Defaults: concurrency 2, attempts 5, backoff 30s, timeout 6h, stall timeout 10m,
   * shutdown timeout 60s, health port 3001 (0 disables), health host 127.0.0.1.
   */
  worker: z.object({
    concurrency: z.number().int().min(1).max(64),
    attempts: z.number().int().min(1).max(100),
    backoffMs: positiveMs,
    timeoutMs: positiveMs,
    stallTimeoutMs: positiveMs,
    shutdownTimeoutMs: positiveMs,
    /** BullMQ's job lock: a dead worker's job is taken over within about this long. Default 30 s. */
    lockDurationMs: positiveMs,
    /** How often BullMQ looks for stalled jobs. Default 15 s. */
    stalledIntervalMs: positiveMs,
    healthPort: z.number().int().min(0).max(65_535),
    healthHost: z.string(),
    webhookUrl: z.string().optional(),
  }),
  /**
   * Drills across the fleet. Defaults: concurrency 1 (BACKUP_DRILL_CONCURRENCY: drills running
   * at once over every worker), no max RTO (BACKUP_DRILL_MAX_RTO), allowTargetServer false
   * (BACKUP_DRILL_ALLOW_TARGET_SERVER).
   */
  drill: z.object({
    concurrency: z.number().int().min(1).max(64),
    maxRtoMs: positiveMs.optional(),
    allowTargetServer: z.boolean(),
  }),
  /**
   * pg_restore --jobs for restores and drills of backups large enough that it pays
   * (BACKUP_RESTORE_JOBS). Default: the number of cores.
   */
  restoreJobs: z.number().int().min(1).max(64),
  /** Default `info`. */
  logLevel: z.enum(logLevels),
  /** Present when nothing configured a target and the local `postgres` database is the target. */
  localDefault: z.literal(true).optional(),
});

/**
 * Last line of defence: the assembled configuration must match the schema. A mismatch is a bug
 * in the loader, reported without values (they may be secrets).
 */
export function checkAssembledConfig(config: unknown): z.infer<typeof backupConfigSchema> {
  const result = backupConfigSchema.safeParse(config);
  if (result.success) return result.data;
  const where = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  throw new BackupError('CONFIG_INVALID', `the configuration does not have the expected shape: ${where}`);
}
