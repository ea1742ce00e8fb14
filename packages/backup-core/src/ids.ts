import { randomBytes } from 'node:crypto';
import { BackupError } from './errors.js';

/** Target names go into paths, job ids and commands: letters, digits, `_`, `.`, `-`, no leading dot. */
export const targetNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const idPattern = /^(\d{8}T\d{9}Z)-([A-Za-z0-9][A-Za-z0-9_.-]{0,62})-([0-9a-f]{6})$/;

function compactTimestamp(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

/**
 * `<UTC time>-<target>-<6 hex>`, e.g. `20261125T020000123Z-app-1a2b3c`: sorts by time, names its
 * target, and holds no character that could leave the backup directory. `suffix` makes the id
 * deterministic (the worker derives it from the job id, so a re-run job finds its own backup).
 */
export function newBackupId(target: string, at: Date, suffix?: string): string {
  if (!targetNamePattern.test(target)) {
    throw new BackupError(
      'TARGET_UNKNOWN',
      `target name ${JSON.stringify(target)} is not a valid target name`,
    );
  }
  const tail = suffix ?? randomBytes(3).toString('hex');
  if (!/^[0-9a-f]{6}$/.test(tail)) throw new Error(`backup id suffix must be 6 hex characters, got ${tail}`);
  return `${compactTimestamp(at)}-${target}-${tail}`;
}

export interface ParsedBackupId {
  id: string;
  target: string;
  createdAt: Date;
}

/** Validates an id coming from a user, a job or a file name; never lets `/` or `..` through. */
export function parseBackupId(id: string): ParsedBackupId {
  const match = typeof id === 'string' && id.length <= 100 ? idPattern.exec(id) : null;
  if (!match) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 100)) : String(id);
    throw new BackupError(
      'BACKUP_ID_INVALID',
      `${shown} is not a backup id: expected <UTC time>-<target>-<6 hex>, for example 20261125T020000123Z-app-1a2b3c ` +
        '(`backupctl backups` lists them)',
    );
  }
  const [, stamp, target] = match as unknown as [string, string, string];
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`;
  const createdAt = new Date(iso);
  if (Number.isNaN(createdAt.getTime())) {
    throw new BackupError('BACKUP_ID_INVALID', `${JSON.stringify(id)} holds an impossible date (${iso})`);
  }
  return { id, target, createdAt };
}

export function isBackupId(id: string): boolean {
  try {
    parseBackupId(id);
    return true;
  } catch {
    return false;
  }
}
