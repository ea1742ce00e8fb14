import { z } from 'zod';

export const compressionKinds = ['zstd', 'gzip', 'none'] as const;
export type Compression = (typeof compressionKinds)[number];

/** Verification levels, weakest first; each includes every check of the ones before it. */
export const verifyLevels = ['checksum', 'list', 'read', 'restore'] as const;
export type VerifyLevel = (typeof verifyLevels)[number];

export function levelRank(level: VerifyLevel): number {
  return verifyLevels.indexOf(level);
}

export const verificationSchema = z.object({
  level: z.enum(verifyLevels),
  ok: z.boolean(),
  at: z.iso.datetime(),
  durationMs: z.number().int().nonnegative(),
  /** BackupError code when ok is false. */
  errorCode: z.string().optional(),
  message: z.string().optional(),
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
