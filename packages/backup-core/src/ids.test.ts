import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackupError } from './errors.js';
import { isBackupId, newBackupId, parseBackupId } from './ids.js';
import { findBackup } from './storage/catalog.js';
import { type Workspace, workspace } from './test-support/fixtures.js';

const valid = '20261125T020000123Z-app-1a2b3c';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof BackupError ? error.code : `not a BackupError: ${String(error)}`;
  }
}

describe('parseBackupId', () => {
  it.each([
    ['a parent-directory path', '../x'],
    ['a parent directory before a valid id', `../${valid}`],
    ['a valid id followed by a path', `${valid}/../../etc`],
    ['a slash', 'a/b'],
    ['a backslash', `20261125T020000123Z-a\\b-1a2b3c`],
    ['`..` as the target', '20261125T020000123Z-..-1a2b3c'],
    ['`..` alone', '..'],
    ['a target starting with a dot', '20261125T020000123Z-.app-1a2b3c'],
    ['an absolute path', `/tmp/${valid}`],
    ['the empty string', ''],
    ['1000 characters', `20261125T020000123Z-${'a'.repeat(973)}-1a2b3c`],
    ['a NUL byte', `${valid}\0`],
    ['a trailing newline', `${valid}\n`],
    ['an impossible date', '20261345T990000123Z-app-1a2b3c'],
    ['an uppercase suffix', '20261125T020000123Z-app-1A2B3C'],
  ])('rejects %s', (_label, id) => {
    expect(codeOf(() => parseBackupId(id))).toBe('BACKUP_ID_INVALID');
    expect(isBackupId(id)).toBe(false);
  });

  it.each([undefined, null, 42, {}, [valid], { toString: () => valid }])(
    'rejects the non-string %j',
    (value) => {
      expect(codeOf(() => parseBackupId(value as unknown as string))).toBe('BACKUP_ID_INVALID');
    },
  );

  it('accepts the ids it generates, and reads their target and time back', () => {
    const at = new Date('2026-11-25T02:00:00.123Z');
    for (const target of ['app', 'app-prod', 'db_1.eu', 'A'.repeat(63)]) {
      const id = newBackupId(target, at);
      expect(parseBackupId(id)).toEqual({ id, target, createdAt: at });
    }
    expect(newBackupId('app', at, 'abcdef')).toBe('20261125T020000123Z-app-abcdef');
  });

  it('only accepts ids that are one plain path segment', () => {
    // `..` inside a target name is allowed (a..b), but is never a path component on its own.
    const id = newBackupId('a..b', new Date());
    expect(parseBackupId(id).target).toBe('a..b');
    expect(path.basename(id)).toBe(id);
    expect(path.normalize(id)).toBe(id);
  });
});

describe('findBackup with an id that is a path', () => {
  let ws: Workspace;
  afterEach(async () => {
    await ws?.remove();
  });

  it('throws BACKUP_ID_INVALID and touches nothing', async () => {
    ws = await workspace();
    const outside = path.join(ws.root, 'secret.manifest.json');
    await fs.writeFile(outside, '{"formatVersion":1}');
    const before = await fs.stat(outside);

    for (const id of ['../secret', `../${valid}`, '../../root/secret', `app/../../${valid}`]) {
      await expect(findBackup(ws.backupDir, id)).rejects.toMatchObject({ code: 'BACKUP_ID_INVALID' });
    }
    expect(await fs.readFile(outside, 'utf8')).toBe('{"formatVersion":1}');
    expect((await fs.stat(outside)).mtimeMs).toBe(before.mtimeMs);
    expect(await fs.readdir(ws.root)).toEqual(['secret.manifest.json']);
  });
});
