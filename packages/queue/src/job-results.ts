import { verifyLevels } from '@pgbackup/backup-core';
import { z } from 'zod';

/**
 * What each job returns. The worker's handlers are typed by these schemas, and every reader (the
 * CLI, the dashboard, the bench) parses a job's return value with them instead of casting it: a
 * worker of another version, or a hand-edited job, gives a clear error rather than `undefined`s.
 * Fields a worker may omit are optional: BullMQ stores return values as JSON, which drops them.
 */

export const dumpJobResult = z.object({
  backupId: z.string(),
  target: z.string(),
  file: z.string(),
  sizeBytes: z.number(),
  sha256: z.string(),
  durationMs: z.number(),
  /** True when a previous run of this job had already written the backup. */
  reused: z.boolean(),
  runLog: z.string(),
  verifyJobId: z.string().optional(),
});

export const verifyJobResult = z.object({
  backupId: z.string(),
  target: z.string(),
  level: z.enum(verifyLevels),
  ok: z.literal(true),
  durationMs: z.number(),
  pruneJobId: z.string().optional(),
  /** Set when the copy in this destination was verified rather than the local file. */
  destination: z.string().optional(),
  /** The chain's copy jobs (one per destination of the target), when it enqueued them. */
  copyJobIds: z.array(z.string()).optional(),
  /** What the level did not check, and why (the manifest's verification notes). */
  notes: z.array(z.string()).optional(),
});

export const copyJobResult = z.object({
  backupId: z.string(),
  target: z.string(),
  destination: z.string(),
  bucket: z.string(),
  key: z.string(),
  sizeBytes: z.number(),
  sha256: z.string(),
  confirmedAt: z.string(),
  /** True when an earlier attempt had already confirmed the copy. */
  reused: z.boolean(),
  partSize: z.number().optional(),
  parts: z.number().optional(),
  durationMs: z.number(),
  pruneJobId: z.string().optional(),
});

export const pruneJobResult = z.object({
  target: z.string(),
  dryRun: z.boolean(),
  kept: z.number(),
  deleted: z.array(z.string()),
  /** Per destination: the same retention, applied to the bucket's manifests. */
  destinations: z
    .array(
      z.object({
        destination: z.string(),
        kept: z.number(),
        planned: z.number(),
        deleted: z.array(z.string()),
      }),
    )
    .optional(),
  decisions: z.array(
    z.object({
      id: z.string(),
      createdAt: z.string(),
      action: z.enum(['keep', 'delete']),
      reasons: z.array(z.string()),
    }),
  ),
});

export const restoreJobResult = z.object({
  backupId: z.string(),
  database: z.string(),
  /** The configured target on whose server the database was restored. */
  serverTarget: z.string(),
  durationMs: z.number(),
  safetyBackupId: z.string().optional(),
  replacedExisting: z.boolean(),
});

export const drillJobResult = z.object({
  backupId: z.string(),
  target: z.string(),
  ok: z.literal(true),
  /** The drill server, `host:port`. */
  server: z.string(),
  /** The drill server's wal_level (at `minimal` the restore writes no WAL for its tables); absent when unread. */
  walLevel: z.string().optional(),
  /** Restore and row count check, in ms: the measured RTO. */
  restoreMs: z.number(),
  /** The backup's age when the drill started, in ms: the RPO. */
  backupAgeMs: z.number(),
  bytes: z.number(),
  tables: z.number(),
  /** True when the restore took longer than BACKUP_DRILL_MAX_RTO (alerted). */
  rtoExceeded: z.boolean(),
  /** The globals backup replayed on the drill server first; absent when none was (or before it). */
  globalsBackupId: z.string().optional(),
  /** What the drill did not compare, and why (a role the drill server lacks, say). */
  notes: z.array(z.string()).optional(),
  /** The destination the backup was downloaded from: it was in that bucket only (retention 0). */
  destination: z.string().optional(),
  /** Of restoreMs, the download from `destination`. */
  downloadMs: z.number().optional(),
});

export const discoverJobResult = z.object({
  server: z.string(),
  /** The run's backup of the server's roles and tablespaces (`<server>.globals`). */
  globalsBackupId: z.string(),
  /** Its verify job (which chains copy and prune); absent in results recorded before it. */
  globalsVerifyJobId: z.string().optional(),
  /** Every database backed up in this run, with the id of its dump job. */
  databases: z.array(z.object({ database: z.string(), target: z.string(), dumpJobId: z.string() })),
  /** Target names first seen in this run (announced as `discovered`). */
  discovered: z.array(z.string()),
  /** Target names gone since the previous run (announced as `vanished`). */
  vanished: z.array(z.string()),
  skipped: z.array(z.object({ database: z.string(), reason: z.string() })),
});

export type DumpJobResult = z.output<typeof dumpJobResult>;
export type VerifyJobResult = z.output<typeof verifyJobResult>;
export type CopyJobResult = z.output<typeof copyJobResult>;
export type PruneJobResult = z.output<typeof pruneJobResult>;
export type RestoreJobResult = z.output<typeof restoreJobResult>;
export type DrillJobResult = z.output<typeof drillJobResult>;
export type DiscoverJobResult = z.output<typeof discoverJobResult>;
