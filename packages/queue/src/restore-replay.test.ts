import { expect, it } from 'vitest';
import { restoreAgainCommand } from './restore-replay.js';

const backupId = '20261203T020000000Z-app-abc123';

it('gives the restore command to run again, with what the job restored from and into', () => {
  expect(restoreAgainCommand({ data: { backupId, database: 'app_copy', force: true } })).toBe(
    `backupctl restore ${backupId} --to app_copy --wait`,
  );
  expect(restoreAgainCommand({ data: { backupId, database: 'app_copy', from: 's3' } })).toBe(
    `backupctl restore ${backupId} --to app_copy --from s3 --wait`,
  );
  // Into the server of another target: the job kept its name, not the URL that was given.
  expect(restoreAgainCommand({ data: { backupId, database: 'shop', serverTarget: 'other' } })).toBe(
    `backupctl restore ${backupId} --to shop --wait (into shop on the server of target other: give --to as postgresql://<that server>/shop)`,
  );
  expect(restoreAgainCommand({ data: { backupId, database: 'app', serverTarget: 'app' } })).toBe(
    `backupctl restore ${backupId} --to app --wait`,
  );
});
