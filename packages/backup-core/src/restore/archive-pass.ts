import type { OperatorKey } from '../crypto/index.js';
import type { BackupErrorCode } from '../errors.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { decodeBackup } from '../verify/decode.js';

export interface ArchivePass {
  name: string;
  pgRestore: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  failureCode: BackupErrorCode;
  classify?: (stderr: string) => BackupErrorCode | undefined;
  stdout: 'pipe' | 'ignore';
}

/**
 * Hands the decoded backup to one pg_restore that reads only as far as it needs (its table of
 * contents, or the first data blocks) and returns its stdout. Nothing here judges the checksum:
 * the file is not read to its end, so the pass that decodes all of it must. A decoding failure
 * (a corrupt stream, a wrong key) throws before pg_restore's own.
 */
export async function readArchivePrefix(
  entry: CatalogEntry,
  pass: ArchivePass,
  options: { keyring: readonly OperatorKey[]; signal?: AbortSignal },
): Promise<string> {
  const outcome = await decodeBackup(entry, {
    keyring: options.keyring,
    consumer: {
      name: pass.name,
      program: pass.pgRestore,
      args: pass.args,
      env: pass.env,
      failureCode: pass.failureCode,
      ...(pass.classify ? { classify: pass.classify } : {}),
      mayStopEarly: true,
      stdout: pass.stdout,
    },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (outcome.decodeError) throw outcome.decodeError;
  if (outcome.consumerError) throw outcome.consumerError;
  return outcome.output;
}
