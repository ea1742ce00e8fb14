import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoveredTarget } from '../discovery/discovered-target.js';
import { configWorkspace, problemsOf } from '../test-support/config-workspace.js';
import { loadConfig } from './index.js';

const db = { DATABASE_URL: 'postgresql://app@127.0.0.1:5432/postgres', BACKUP_TARGET_NAME: 'prod' };
const workspace = configWorkspace('discover', db);

async function withFile(yaml: string, env: Record<string, string> = {}) {
  const file = path.join(workspace.dir, `c-${Math.random().toString(16).slice(2)}.yaml`);
  await writeFile(file, yaml);
  return () => loadConfig({ env: { BACKUP_CONFIG: file, ...env }, cwd: workspace.dir });
}

describe('BACKUP_DISCOVER on the DATABASE_URL target', () => {
  it('unset: a plain database target', () => {
    const [target] = loadConfig({ env: db, cwd: workspace.dir }).targets;
    expect(target?.discover).toBeUndefined();
  });

  it('all: the target names a server, with the default cap of 2', () => {
    const [target] = loadConfig({ env: { ...db, BACKUP_DISCOVER: 'all' }, cwd: workspace.dir }).targets;
    expect(target?.discover).toEqual({
      databases: 'all',
      exclude: [],
      concurrency: 2,
      noRolePasswords: false,
    });
  });

  it('patterns, exclusions and the cap', () => {
    const [target] = loadConfig({
      env: {
        ...db,
        BACKUP_DISCOVER: 'app_*, reporting',
        BACKUP_DISCOVER_EXCLUDE: 'app_test*',
        BACKUP_SERVER_CONCURRENCY: '4',
        BACKUP_NO_ROLE_PASSWORDS: 'yes',
      },
      cwd: workspace.dir,
    }).targets;
    expect(target?.discover).toEqual({
      databases: ['app_*', 'reporting'],
      exclude: ['app_test*'],
      concurrency: 4,
      noRolePasswords: true,
    });
  });

  it('refuses an empty pattern, an exclusion alone and a bad cap, naming each variable', () => {
    const message = problemsOf(() =>
      loadConfig({
        env: { ...db, BACKUP_DISCOVER: 'app,,b', BACKUP_SERVER_CONCURRENCY: '0' },
        cwd: workspace.dir,
      }),
    );
    expect(message).toContain('BACKUP_DISCOVER="app,,b": has an empty pattern');
    expect(message).toContain('BACKUP_SERVER_CONCURRENCY="0"');
    expect(
      problemsOf(() => loadConfig({ env: { ...db, BACKUP_DISCOVER_EXCLUDE: 'x' }, cwd: workspace.dir })),
    ).toContain('BACKUP_DISCOVER_EXCLUDE: is set but BACKUP_DISCOVER is not');
  });

  it('refuses a server name too long for <server>.<database>', () => {
    const message = problemsOf(() =>
      loadConfig({
        env: { ...db, BACKUP_TARGET_NAME: 'x'.repeat(41), BACKUP_DISCOVER: 'all' },
        cwd: workspace.dir,
      }),
    );
    expect(message).toContain('a target that discovers databases needs a name of at most 40');
  });
});

describe('databases: and exclude: on a file target', () => {
  it('all, or a list of patterns, with exclude and a per-target cap', async () => {
    const load = await withFile(`
targets:
  - name: prod
    url: postgresql://app@db1:5432/postgres
    databases: all
    exclude: [test_*, "scratch db"]
  - name: eu
    url: postgresql://app@db2:5432/postgres
    databases: [app_*, reporting]
    serverConcurrency: 3
  - name: plain
    url: postgresql://app@db3:5432/shop
`);
    const [prod, eu, plain] = load().targets;
    expect(prod?.discover).toEqual({
      databases: 'all',
      exclude: ['test_*', 'scratch db'],
      concurrency: 2,
      noRolePasswords: false,
    });
    expect(eu?.discover).toEqual({
      databases: ['app_*', 'reporting'],
      exclude: [],
      concurrency: 3,
      noRolePasswords: false,
    });
    expect(plain?.discover).toBeUndefined();
  });

  it('BACKUP_DISCOVER does not turn a file target into a server', async () => {
    const load = await withFile(
      `
targets:
  - name: plain
    url: postgresql://app@db3:5432/shop
`,
      { BACKUP_DISCOVER: 'all' },
    );
    expect(load().targets[0]?.discover).toBeUndefined();
  });

  it('refuses bad values with their place in the file', async () => {
    const load = await withFile(`
targets:
  - name: prod
    url: postgresql://app@db1:5432/postgres
    databases: [app, 3]
  - name: eu
    url: postgresql://app@db2:5432/postgres
    exclude: [x]
  - name: us
    url: postgresql://app@db2:5432/postgres
    databases: {a: 1}
`);
    const message = problemsOf(load);
    expect(message).toMatch(/targets\[0\]\.databases\[1\].*is a number/);
    expect(message).toMatch(/targets\[1\]\.exclude: is set but databases is not/);
    expect(message).toMatch(/targets\[2\]\.databases.*is a mapping/);
  });
});

describe('discoveredTarget', () => {
  it('inherits the server target and names its own database', () => {
    const [server] = loadConfig({ env: { ...db, BACKUP_DISCOVER: 'all' }, cwd: workspace.dir }).targets;
    const target = discoveredTarget(server!, { database: 'my db', target: 'prod.my_db-abcdef' });
    expect(target).toMatchObject({
      name: 'prod.my_db-abcdef',
      server: 'prod',
      schedule: server!.schedule,
      verify: server!.verify,
      connection: { ...server!.connection, database: 'my db' },
      displayUrl: 'postgresql://app@127.0.0.1:5432/my%20db',
    });
    expect(target.discover).toBeUndefined();
  });
});
