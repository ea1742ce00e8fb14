import { describe, expect, it } from 'vitest';
import { targetNamePattern } from '../ids.js';
import { discoveredTargetName } from './discovered-name.js';
import { globMatches } from './glob.js';
import { type DatabaseRow, selectDatabases } from './select.js';

const row = (name: string, extra: Partial<DatabaseRow> = {}): DatabaseRow => ({
  name,
  allowConnections: true,
  invalid: false,
  ...extra,
});

describe('globMatches', () => {
  it('* is any run, ? one character, everything else literal', () => {
    expect(globMatches('app_*', 'app_eu')).toBe(true);
    expect(globMatches('app_*', 'app_')).toBe(true);
    expect(globMatches('app_*', 'xapp_eu')).toBe(false);
    expect(globMatches('db?', 'db1')).toBe(true);
    expect(globMatches('db?', 'db12')).toBe(false);
    // A dot, brackets and a dollar in a pattern mean themselves.
    expect(globMatches('a.b', 'axb')).toBe(false);
    expect(globMatches('[x]$', '[x]$')).toBe(true);
    expect(globMatches('App', 'app')).toBe(false);
  });

  it('? is one character, also outside ASCII', () => {
    expect(globMatches('caf?', 'café')).toBe(true);
    expect(globMatches('??', '日本')).toBe(true);
    expect(globMatches('?', '😀')).toBe(true);
  });
});

describe('discoveredTargetName', () => {
  it('keeps a plain name as <server>.<database>', () => {
    expect(discoveredTargetName('prod', 'app')).toBe('prod.app');
    expect(discoveredTargetName('prod', 'app-eu.2')).toBe('prod.app-eu.2');
  });

  it('replaces unsafe characters and adds a hash of the real name', () => {
    const name = discoveredTargetName('prod', 'my "db" é');
    expect(name).toMatch(/^prod\.my__db___-[0-9a-f]{6}$/);
    expect(name).toMatch(targetNamePattern);
  });

  it('gives different names to databases that differ only in replaced characters', () => {
    const names = ['a b', 'a_b', 'a"b', "a'b", 'aéb'].map((db) => discoveredTargetName('s', db));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(targetNamePattern);
  });

  it('shortens a long name to 63 characters, keeping the hash', () => {
    const long = 'x'.repeat(63);
    const name = discoveredTargetName('server-with-a-long-name', long);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(targetNamePattern);
    expect(name).toMatch(/-[0-9a-f]{6}$/);
    expect(name).not.toBe(discoveredTargetName('server-with-a-long-name', `${'x'.repeat(62)}y`));
  });

  it('turns a character outside the BMP into one _', () => {
    expect(discoveredTargetName('s', 'a😀b')).toMatch(/^s\.a_b-[0-9a-f]{6}$/);
  });
});

describe('selectDatabases', () => {
  const rows = [
    row('template0', { allowConnections: false }),
    row('template1'),
    row('postgres'),
    row('app'),
    row('app_eu'),
    row('reporting'),
    row('locked', { allowConnections: false }),
    row('half_dropped', { invalid: true }),
    row('pgbackup_restore_0a1b2c3d4e5f'),
    row('pgbackup_verify_0a1b2c3d4e'),
  ];

  it('all: every database but templates, unconnectable, invalid, scratch and the maintenance one', () => {
    const found = selectDatabases('prod', rows, { databases: 'all', exclude: [] }, 'postgres');
    expect(found.databases).toEqual([
      { database: 'app', target: 'prod.app' },
      { database: 'app_eu', target: 'prod.app_eu' },
      { database: 'reporting', target: 'prod.reporting' },
    ]);
    expect(Object.fromEntries(found.skipped.map((skip) => [skip.database, skip.reason]))).toEqual({
      template0: 'template',
      template1: 'template',
      postgres: 'maintenance',
      locked: 'no-connections',
      half_dropped: 'invalid',
      pgbackup_restore_0a1b2c3d4e5f: 'service-scratch',
      pgbackup_verify_0a1b2c3d4e: 'service-scratch',
    });
  });

  it('patterns include, exclude wins, and the maintenance database only when named', () => {
    const found = selectDatabases(
      'prod',
      rows,
      { databases: ['app*', 'postgres', 'template1'], exclude: ['*_eu'] },
      'postgres',
    );
    expect(found.databases.map((d) => d.database)).toEqual(['app', 'postgres']);
    const reasons = new Map(found.skipped.map((skip) => [skip.database, skip.reason]));
    expect(reasons.get('app_eu')).toBe('excluded');
    expect(reasons.get('reporting')).toBe('not-included');
    // Never a template, even when listed.
    expect(reasons.get('template1')).toBe('template');
  });

  it('a wildcard that happens to match the maintenance database does not list it', () => {
    const found = selectDatabases('prod', rows, { databases: ['*'], exclude: [] }, 'postgres');
    expect(found.databases.map((d) => d.database)).not.toContain('postgres');
  });

  it('the maintenance database is whichever the URL names', () => {
    const found = selectDatabases('prod', rows, { databases: 'all', exclude: [] }, 'app');
    expect(found.databases.map((d) => d.database)).toEqual(['app_eu', 'postgres', 'reporting']);
  });

  it('sorts, whatever order the server listed them in', () => {
    const found = selectDatabases(
      's',
      [row('b'), row('a'), row('c')],
      { databases: 'all', exclude: [] },
      'postgres',
    );
    expect(found.databases.map((d) => d.database)).toEqual(['a', 'b', 'c']);
  });
});

describe('the globals target name', () => {
  it('is never the name of a discovered database', () => {
    expect(discoveredTargetName('prod', 'globals')).toMatch(/^prod\.globals-[0-9a-f]{6}$/);
  });
});
