import { describe, expect, it } from 'vitest';
import type { Manifest } from '../manifest.js';
import { dataLinesAreUnambiguous, processingDataLine, tablesNotProcessed } from './table-checks.js';

const manifestOf = (tables: Array<[string, string]>) =>
  ({ tables: tables.map(([schema, name]) => ({ schema, name, rows: 1, bytes: 8192 })) }) as Manifest;

describe('the data lines of pg_restore --verbose', () => {
  it('reads the table out of the line', () => {
    expect(processingDataLine.exec('pg_restore: processing data for table "public.accounts"')?.[1]).toBe(
      'public.accounts',
    );
    expect(processingDataLine.test('pg_restore: creating TABLE "public.accounts"')).toBe(false);
  });

  it('names the recorded tables whose data was not processed', () => {
    const manifest = manifestOf([
      ['public', 'accounts'],
      ['sales', 'Orders 2026'],
      ['public', 'ghost'],
    ]);
    expect(tablesNotProcessed(manifest, new Set(['public.accounts', 'sales.Orders 2026']))).toEqual([
      'public.ghost',
    ]);
  });

  it('is ambiguous when a name holds a dot, a quote, a line break or anything beyond printable ASCII (the caller then lists the archive)', () => {
    expect(dataLinesAreUnambiguous(manifestOf([['public', 'accounts']]))).toBe(true);
    expect(dataLinesAreUnambiguous(manifestOf([['a', 'b.c']]))).toBe(false);
    expect(dataLinesAreUnambiguous(manifestOf([['a.b', 'c']]))).toBe(false);
    expect(dataLinesAreUnambiguous(manifestOf([['public', 'say "hi"']]))).toBe(false);
    expect(dataLinesAreUnambiguous(manifestOf([['public', 'two\nlines']]))).toBe(false);
    expect(dataLinesAreUnambiguous(manifestOf([['public', 'café']]))).toBe(false);
    expect(dataLinesAreUnambiguous(manifestOf([['sales', 'Orders 2026']]))).toBe(true);
  });
});
