// No imports on purpose: backupctl's command definitions load this subpath
// (`@pgbackup/backup-core/verify-levels`) without loading the engine.

/** Verification levels, weakest first; each includes every check of the ones before it. */
export const verifyLevels = ['checksum', 'list', 'read', 'restore'] as const;
export type VerifyLevel = (typeof verifyLevels)[number];

export function levelRank(level: VerifyLevel): number {
  return verifyLevels.indexOf(level);
}
