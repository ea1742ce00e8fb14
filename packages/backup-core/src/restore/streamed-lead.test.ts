import { describe, expect, it } from 'vitest';
import type { TableStat } from '../manifest.js';
import { planStreamedLead } from './streamed-lead.js';

const table = (schema: string, name: string, bytes: number): TableStat => ({
  schema,
  name,
  rows: 1,
  bytes,
});

// As `pg_restore --list` prints it: a header of comments, the schema, the data, then post-data.
const list = [
  ';',
  '; Archive created at 2026-12-03 07:00:00 UTC',
  ';',
  '215; 1259 16390 TABLE public customers app',
  '216; 1259 16400 TABLE public orders app',
  '3367; 0 16390 TABLE DATA public customers app',
  '3368; 0 16400 TABLE DATA public orders app',
  '3369; 0 16410 TABLE DATA public events app',
  '3370; 0 16420 TABLE DATA public notes app',
  '3216; 2606 16395 CONSTRAINT public customers customers_pkey app',
].join('\n');

describe('planStreamedLead', () => {
  it('takes the first data entries until they hold a (jobs + 1)-th of the data, and comments them out of the rest', () => {
    const tables = [
      table('public', 'customers', 100),
      table('public', 'orders', 100),
      table('public', 'events', 300),
      table('public', 'notes', 100),
    ];
    const two = planStreamedLead(list, tables, 2);
    // customers and orders hold 200 of 600: a third, what 2 jobs leave to the stream.
    expect(two.lead.map((t) => t.name)).toEqual(['customers', 'orders']);
    expect(two.rest.map((t) => t.name)).toEqual(['events', 'notes']);
    expect(two.leadList).toBe(
      '3367; 0 16390 TABLE DATA public customers app\n3368; 0 16400 TABLE DATA public orders app\n',
    );
    expect(two.restList).toContain(';3367; 0 16390 TABLE DATA public customers app\n');
    expect(two.restList).toContain(';3368; 0 16400 TABLE DATA public orders app\n');
    expect(two.restList).toContain('\n3369; 0 16410 TABLE DATA public events app\n');
    expect(two.restList).toContain('\n3216; 2606 16395 CONSTRAINT public customers customers_pkey app\n');
    // With 4 jobs a fifth (120 bytes): the first entry only, whatever its size.
    expect(planStreamedLead(list, tables, 4).lead.map((t) => t.name)).toEqual(['customers']);
    const big = [table('public', 'customers', 1000), ...tables.slice(1)];
    expect(planStreamedLead(list, big, 2).lead.map((t) => t.name)).toEqual(['customers']);
  });

  it('streams nothing with one job, or when the first entry cannot be told apart', () => {
    const tables = [table('public', 'customers', 100), table('public', 'orders', 100)];
    expect(planStreamedLead(list, tables, 1).lead).toEqual([]);
    // "public customers x app" could be table "customers x" or table "customers" owned by "x app".
    const spaced = list.replace('TABLE DATA public customers app', 'TABLE DATA public customers x app');
    const ambiguous = [...tables, table('public', 'customers x', 5)];
    const plan = planStreamedLead(spaced, ambiguous, 2);
    expect(plan.lead).toEqual([]);
    expect(plan.rest).toEqual(ambiguous);
    expect(plan.restList).not.toMatch(/^;\d/m);
    // Told apart when the manifest has only one of them.
    expect(planStreamedLead(spaced, [...tables.slice(1), table('public', 'customers x', 5)], 2).lead).toEqual(
      [table('public', 'customers x', 5)],
    );
    // A table of the archive the manifest does not name is not streamed either.
    expect(planStreamedLead(list, [table('public', 'orders', 100)], 2).lead).toEqual([]);
  });
});
