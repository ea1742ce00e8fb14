import { BackupError } from '@pgbackup/backup-core';
import { UnrecoverableError } from 'bullmq';
import { expect, it } from 'vitest';
import { toJobError } from './retry-policy.js';

// What BullMQ stores in Redis as the failed reason and stack trace: a library error that quotes
// a connection URL must not carry its password there.
const password = '20 24/Se?c#r:e%t@ü密';

it.each([
  [
    'a retryable error',
    new BackupError('PG_UNREACHABLE', `connect to postgresql://app:${password}@db/app failed`),
  ],
  [
    'an unrecoverable error',
    new BackupError('PG_AUTH_FAILED', `login as redis://:${password}@redis:6379 refused`),
  ],
  ['a plain error', new Error(`connect to postgresql://app:${password}@db/app failed`)],
])('toJobError hides URL passwords in %s, keeping the code first', (_label, error) => {
  const jobError = toJobError(error);
  expect(jobError.message).toMatch(/^[A-Z_]+: /);
  expect(jobError.message).toContain(':***@');
  expect(jobError.message).not.toContain(password);
  expect(jobError.stack ?? '').not.toContain(password);
  if (error instanceof BackupError && !error.retryable) expect(jobError).toBeInstanceOf(UnrecoverableError);
});
