import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupErrorOf, configWorkspace } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const workspace = configWorkspace('tls', { BACKUP_TARGET_NAME: 'app' });
const load = workspace.load;
let ca: string;
let cert: string;
let key: string;
beforeAll(async () => {
  ca = path.join(workspace.dir, 'ca.crt');
  cert = path.join(workspace.dir, 'client.crt');
  key = path.join(workspace.dir, 'client.key');
  // The loader checks presence, readability and the key's mode, not the PEM content.
  await writeFile(ca, 'ca');
  await writeFile(cert, 'cert');
  await writeFile(key, 'key', { mode: 0o600 });
});

const problemOf = (env: Record<string, string>) => backupErrorOf(() => load(env), 'CONFIG_INVALID').message;

async function configFile(targets: unknown[]): Promise<string> {
  const file = path.join(workspace.dir, `targets-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify({ targets }));
  return file;
}

describe('TLS settings', () => {
  it('none given: no tls part (libpq default prefer)', () => {
    expect(load({ DATABASE_URL: 'postgresql://u@h/app' }).targets[0]!.connection.tls).toBeUndefined();
  });

  it('URL parameters, with relative paths against the working directory', () => {
    const connection = load({
      DATABASE_URL:
        'postgresql://u@h/app?sslmode=VERIFY-FULL&sslrootcert=ca.crt&sslcert=client.crt&sslkey=client.key',
    }).targets[0]!.connection;
    expect(connection.tls).toEqual({ mode: 'verify-full', rootCert: ca, cert, key });
  });

  it('PGSSL* variables fill what the URL does not give', () => {
    const connection = load({
      DATABASE_URL: 'postgresql://u@h/app?sslmode=require',
      PGSSLMODE: 'disable',
      PGSSLROOTCERT: ca,
    }).targets[0]!.connection;
    expect(connection.tls).toEqual({ mode: 'require', rootCert: ca });
  });

  it.each([
    [
      { DATABASE_URL: 'postgresql://u@h/app?sslmode=strict' },
      'DATABASE_URL="postgresql://u@h/app?sslmode=strict": has sslmode="strict", which is not one of the accepted values; expected sslmode one of disable, allow, prefer, require, verify-ca, verify-full',
    ],
    [
      { DATABASE_URL: 'postgresql://u@h/app?sslrootcert=missing.crt' },
      'has sslrootcert="missing.crt", which cannot be read (ENOENT)',
    ],
    [
      { DATABASE_URL: 'postgresql://u@h/app', PGSSLROOTCERT: 'missing.crt' },
      'PGSSLROOTCERT="missing.crt": cannot be read (ENOENT)',
    ],
    [
      { DATABASE_URL: 'postgresql://u@h/app', PGSSLMODE: 'verify-ca' },
      'has sslmode verify-ca without sslrootcert',
    ],
    [{ DATABASE_URL: 'postgresql://u@h/app?sslcert=client.crt' }, 'has sslcert without sslkey'],
    [{ DATABASE_URL: 'postgresql://u@h/app?sslmode=require&sslmode=disable' }, 'has sslmode more than once'],
  ])('%j is refused: %s', (env, expected) => {
    expect(problemOf(env)).toContain(expected);
  });

  it('a key that group or others can read is refused, as libpq refuses it', async () => {
    const open = path.join(workspace.dir, 'open.key');
    await writeFile(open, 'key');
    await chmod(open, 0o640);
    expect(problemOf({ DATABASE_URL: 'postgresql://u@h/app', PGSSLCERT: cert, PGSSLKEY: open })).toContain(
      `PGSSLKEY="${open}": can be read by group or others (mode 0640); expected a client key file (PEM) readable by this user only (chmod 600)`,
    );
  });

  it('config file target keys, relative to the file; the same setting in url and key is refused', async () => {
    const good = await configFile([
      { name: 'app', url: 'postgresql://u@h/app?sslmode=verify-ca', sslRootCert: 'ca.crt' },
    ]);
    expect(loadConfig({ env: { BACKUP_CONFIG: good }, cwd: '/' }).targets[0]!.connection.tls).toEqual({
      mode: 'verify-ca',
      rootCert: ca,
    });
    const both = await configFile([
      { name: 'app', url: 'postgresql://u@h/app?sslmode=require', sslMode: 'disable', sslKey: 'nope.key' },
    ]);
    const message = problemOf({ BACKUP_CONFIG: both });
    expect(message).toContain(
      'targets[0].sslMode="disable": is set while url has sslmode; expected only one of them',
    );
    expect(message).toContain('targets[0].sslKey="nope.key": cannot be read (ENOENT)');
  });

  it('DATABASE_URL replacing a file target keeps the file TLS settings it does not give itself', async () => {
    const file = await configFile([
      { name: 'app', url: 'postgresql://u@h/app', sslMode: 'verify-full', sslRootCert: ca },
    ]);
    const target = load({ BACKUP_CONFIG: file, DATABASE_URL: 'postgresql://u:pw@h/app' }).targets[0]!;
    expect(target.connection).toMatchObject({ password: 'pw', tls: { mode: 'verify-full', rootCert: ca } });
    const weakened = load({ BACKUP_CONFIG: file, DATABASE_URL: 'postgresql://u:pw@h/app?sslmode=require' });
    expect(weakened.targets[0]!.connection.tls).toEqual({ mode: 'require', rootCert: ca });
  });
});
