import { z } from 'zod';
import { type VerifyLevel, verifyLevels } from './verify/levels.js';

export const compressionKinds = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof compressionKinds)[number];

export { levelRank, type VerifyLevel, verifyLevels } from './verify/levels.js';

export const verificationSchema = z.object({
  level: z.enum(verifyLevels),
  ok: z.boolean(),
  at: z.iso.datetime(),
  durationMs: z.number().int().nonnegative(),
  /** BackupError code when ok is false. */
  errorCode: z.string().optional(),
  message: z.string().optional(),
  /**
   * What the level did not check, and why (a database property naming a role the scratch server
   * lacks; a globals backup's tablespaces, not created in the scratch cluster). Absent when none.
   */
  notes: z.array(z.string()).optional(),
});
export type Verification = z.infer<typeof verificationSchema>;

export const tableStatSchema = z.object({
  schema: z.string(),
  name: z.string(),
  /** Exact count(*) taken inside the snapshot pg_dump used. */
  rows: z.number().int().nonnegative(),
  /** pg_total_relation_size at dump time, for progress estimates. */
  bytes: z.number().int().nonnegative(),
});
export type TableStat = z.infer<typeof tableStatSchema>;

/** A copy of the backup in an offsite destination, recorded only once confirmed. */
export const copySchema = z.object({
  destination: z.string(),
  bucket: z.string(),
  /** Object key of the data; the manifest object is `<same directory>/<id>.manifest.json`. */
  key: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** When HeadObject showed the object complete with this size and SHA-256 metadata. */
  confirmedAt: z.iso.datetime(),
});
export type Copy = z.infer<typeof copySchema>;

/**
 * A restore drill of the backup (drill/drill.ts): restored into a scratch database on a drill
 * server, its row counts compared with the manifest, the scratch database dropped. A drill that
 * could not run (the drill server down) is not recorded: it says nothing about the backup.
 */
export const drillSchema = z.object({
  ok: z.boolean(),
  startedAt: z.iso.datetime(),
  /** When it ended. */
  at: z.iso.datetime(),
  /**
   * Restore into the scratch database plus the row count check, in ms: the recovery time (RTO)
   * this backup gives on that server. For a backup drilled from a bucket it includes the download
   * (`downloadMs`).
   */
  restoreMs: z.number().int().nonnegative(),
  /** The backup's age when the drill started, in ms: the data a restore then would lose (RPO). */
  backupAgeMs: z.number().int().nonnegative(),
  /** Size of the backup file restored. */
  bytes: z.number().int().nonnegative(),
  tables: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  /** `host:port` of the drill server (never a password). */
  server: z.string(),
  /** pg_restore jobs used (1: the archive was streamed). Absent in drills recorded before it. */
  jobs: z.number().int().positive().optional(),
  /**
   * The drill server's `wal_level` (drillServerWalLevel): at `minimal` the restore writes no WAL
   * for the tables and indexes it creates, which a restore into a server with replicas does. Absent
   * in drills recorded before it, or when it could not be read.
   */
  walLevel: z.string().optional(),
  /**
   * The server's globals replayed on the drill server before the restore (newest verified
   * `<server>.globals`, existing roles skipped): when applied, objects were restored with their
   * owners and privileges. Absent in drills recorded before it.
   */
  globals: z
    .object({
      applied: z.boolean(),
      backupId: z.string().optional(),
      /** The destination it was downloaded from (kept only in a bucket); absent when local. */
      destination: z.string().optional(),
      /** Statements that failed on the drill server (a tablespace whose directory is missing, say). */
      failed: z.number().int().nonnegative().optional(),
      /** Of those, roles and memberships: then the backup was restored without owners. */
      rolesFailed: z.number().int().nonnegative().optional(),
      /** Why not applied, or what failed. */
      note: z.string().optional(),
    })
    .optional(),
  /** The database properties compared after the restore, and what was not compared and why. */
  properties: z.object({ compared: z.array(z.string()), notes: z.array(z.string()) }).optional(),
  /**
   * The destination the backup was downloaded from for this drill: a backup kept only in a bucket
   * (local retention 0). Absent when the local file was drilled.
   */
  destination: z.string().optional(),
  /** Of `restoreMs`, the download from `destination` (size and SHA-256 checked): a restore from the bucket pays it too. */
  downloadMs: z.number().int().nonnegative().optional(),
  /** BackupError code when ok is false. */
  errorCode: z.string().optional(),
  message: z.string().optional(),
});
export type Drill = z.infer<typeof drillSchema>;

export const manifestSchema = z.object({
  formatVersion: z.literal(1),
  id: z.string(),
  target: z.string(),
  database: z.string(),
  /** When the dump started (the snapshot's time). */
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime(),
  durationMs: z.number().int().nonnegative(),
  /** File name of the backup, in the same directory as the manifest. */
  file: z.string(),
  /**
   * `custom`: a pg_dump archive. `globals`: the SQL of `pg_dumpall --globals-only` (roles,
   * memberships, role settings, tablespaces), the backup `<server>.globals` of a server target.
   */
  format: z.enum(['custom', 'globals']),
  /** A globals backup made with --no-role-passwords: its roles come back without passwords. */
  noRolePasswords: z.boolean().optional(),
  compression: z.enum(compressionKinds),
  encryption: z.object({ algorithm: z.literal('aes-256-gcm-chunked-v1'), keyId: z.string() }).nullable(),
  sizeBytes: z.number().int().nonnegative(),
  /** SHA-256 (hex) of the file as stored: after compression and encryption. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  pgDumpVersion: z.string(),
  serverVersion: z.string(),
  tableCount: z.number().int().nonnegative(),
  tables: z.array(tableStatSchema),
  /**
   * `suspicious`: complete and checksummed, but empty or far smaller than the previous verified
   * backup of the target. Kept for inspection, never counted as a good backup.
   */
  status: z.enum(['complete', 'suspicious']),
  suspicionReason: z.string().optional(),
  verifications: z.array(verificationSchema),
  /** Confirmed offsite copies (absent before any). */
  copies: z.array(copySchema).optional(),
  /** Restore drills of this backup, oldest first (absent before any). */
  drills: z.array(drillSchema).optional(),
  /** The job that produced it, when it came from the queue. */
  jobId: z.string().optional(),
  hostname: z.string(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export type VerificationState =
  | { state: 'verified'; level: VerifyLevel; at: string }
  | { state: 'failed'; level: VerifyLevel; at: string; errorCode: string | undefined }
  | { state: 'unverified' };

/**
 * The latest verification decides: a backup verified yesterday whose re-check failed today
 * is failed. Suspicious backups never count as verified.
 */
export function verificationState(manifest: Manifest): VerificationState {
  const latest = manifest.verifications.at(-1);
  if (!latest) return { state: 'unverified' };
  if (!latest.ok) return { state: 'failed', level: latest.level, at: latest.at, errorCode: latest.errorCode };
  if (manifest.status === 'suspicious') return { state: 'unverified' };
  return { state: 'verified', level: latest.level, at: latest.at };
}

export function isVerified(manifest: Manifest): boolean {
  return verificationState(manifest).state === 'verified';
}
