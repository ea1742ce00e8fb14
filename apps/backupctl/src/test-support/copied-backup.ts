import { copyJobId } from '@pgbackup/queue';
import type { WorkerFixture } from '@pgbackup/worker/testing';
import { expect } from 'vitest';
import type { DumpDocument } from '../commands/dump.js';
import { jsonOf, runCli } from './run-cli.js';

/**
 * `backupctl dump --wait` on the fixture's running worker, then its copy to destination `s3`
 * confirmed: the backup the offsite tests start from. Returns its id.
 */
export async function copiedBackup(fixture: WorkerFixture): Promise<string> {
  const dump = await runCli(fixture.env, ['dump', '--wait', '--json']);
  expect(dump.code, dump.stderr).toBe(0);
  const backupId = jsonOf<DumpDocument>(dump).results[0]!.backupId!;
  expect(await fixture.finished(copyJobId(backupId, 's3'), 120_000)).toBe('completed');
  return backupId;
}
