import { describe, expect, it } from 'vitest';
import { isBackupError } from '../errors.js';
import { startChild } from './child.js';

describe('startChild with stderrLines', () => {
  it('hands matching lines on, the last one without its newline too, and keeps only the others for the error', async () => {
    const seen: string[] = [];
    const child = startChild(
      'sh',
      'sh',
      ['-c', 'echo "info: a" >&2; echo "the real error" >&2; printf "info: b" >&2; exit 3'],
      {
        env: process.env,
        stdio: ['ignore', 'ignore', 'pipe'],
        failureCode: 'ARCHIVE_UNREADABLE',
        stderrLines: { pattern: /^info: /, onLine: (line) => seen.push(line) },
      },
    );
    const error = await child.finished.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isBackupError(error)).toBe(true);
    expect((error as Error).message).toBe('sh exited with status 3: the real error');
    expect(seen).toEqual(['info: a', 'info: b']);
  });
});
