import type { OperatorKey } from '../crypto/index.js';
import type { CatalogEntry } from '../storage/catalog.js';
import { decodeBackup } from '../verify/decode.js';
import { judgeIntegrity } from '../verify/verify.js';
import { checkGlobalsText } from './globals-sql.js';

/**
 * The SQL of a globals backup, read once: checksum against the manifest, every encrypted chunk
 * authenticated, pg_dumpall's closing line present. `cat` is the consumer of the decoded bytes.
 */
export async function readGlobalsSql(
  entry: CatalogEntry,
  keyring: readonly OperatorKey[],
  signal?: AbortSignal,
): Promise<string> {
  const outcome = await decodeBackup(entry, {
    keyring,
    consumer: {
      name: 'cat (globals SQL)',
      program: 'cat',
      args: [],
      env: process.env,
      failureCode: 'ARCHIVE_UNREADABLE',
      stdout: 'pipe',
    },
    ...(signal ? { signal } : {}),
  });
  await judgeIntegrity(entry, outcome);
  if (outcome.consumerError) throw outcome.consumerError;
  checkGlobalsText(outcome.output, entry.manifest.id);
  return outcome.output;
}
