import {
  databaseNameRule,
  isPlainDatabaseName,
  parseBackupId,
  targetNamePattern,
  verifyLevels,
} from '@pgbackup/backup-core';
import { z } from 'zod';
import { type JobName, jobNames } from './names.js';

const targetName = z
  .string()
  .max(63)
  .regex(targetNamePattern, 'a target name: letters, digits, _ . - (at most 63, not starting with . or -)');

const backupId = z
  .string()
  .max(100)
  .refine(
    (id) => {
      try {
        parseBackupId(id);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a backup id like 20261125T020000123Z-app-1a2b3c' },
  );

/** Why a job exists: shown in the dashboard and the CLI. */
const origin = z.enum(['schedule', 'manual', 'chain']).default('manual');

export const dumpJobData = z.strictObject({
  target: targetName,
  origin,
});

export const verifyJobData = z.strictObject({
  backupId,
  level: z.enum(verifyLevels).optional(),
  /** Enqueue the target's prune after a successful verification (the scheduled chain). */
  pruneAfter: z.boolean().default(false),
  /** Verify the copy in this destination (downloaded; the result goes into its manifest object). */
  destination: targetName.optional(),
  origin,
});

/** Copies one backup to one destination; one job per destination, each with its own retries. */
export const copyJobData = z.strictObject({
  backupId,
  /** A configured destination's name (never its credentials: those stay in the worker's config). */
  destination: targetName,
  /** Enqueue the target's prune once every destination of the target holds a confirmed copy. */
  pruneAfter: z.boolean().default(false),
  origin,
});

export const pruneJobData = z.strictObject({
  target: targetName,
  dryRun: z.boolean().default(false),
  origin,
});

export const restoreJobData = z.strictObject({
  backupId,
  /**
   * Database name to restore into, on the server of the target `serverTarget` (default: the
   * backup's target). Checked here too so that a job written into Redis directly (Bull Board's add/edit)
   * fails as JOB_DATA_INVALID before the restore starts; the engine checks again.
   */
  database: z.string().refine(isPlainDatabaseName, { message: databaseNameRule }),
  serverTarget: targetName.optional(),
  force: z.boolean().default(false),
  /** The name of the target whose own database this replaces, typed again (backupctl --confirm). */
  confirm: z.string().max(63).optional(),
  noOwner: z.boolean().default(false),
  /** A destination's name: restore from its bucket alone (no local file needed). */
  from: targetName.optional(),
  origin,
});

/** A restore drill of the target's newest verified backup on its drill server (drill/drill.ts). */
export const drillJobData = z.strictObject({
  target: targetName,
  origin,
});

/** One run of a server target (BACKUP_DISCOVER, `databases:`): discovery, then a dump per database. */
export const discoverJobData = z.strictObject({
  server: targetName,
  origin,
});

export type DumpJobData = z.input<typeof dumpJobData>;
export type VerifyJobData = z.input<typeof verifyJobData>;
export type CopyJobData = z.input<typeof copyJobData>;
export type PruneJobData = z.input<typeof pruneJobData>;
export type RestoreJobData = z.input<typeof restoreJobData>;
export type DrillJobData = z.input<typeof drillJobData>;
export type DiscoverJobData = z.input<typeof discoverJobData>;

export function isJobName(name: string): name is JobName {
  return Object.values(jobNames).includes(name as JobName);
}
