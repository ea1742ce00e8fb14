import type { PgConnection } from '@pgbackup/backup-core';
import pg from 'pg';

// What the bench's entry points share (restore-bench.ts, verify-read-probe.ts, main.ts): their few
// command-line flags, their log line, and the harness server's connection and version.

/** The value after `name` on the command line, or `fallback` when the flag is absent. */
export function stringFlag(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

/** A positive number after `name` on the command line, or `fallback` when the flag is absent. */
export function numberFlag(name: string, fallback: number): number {
  const value = Number(stringFlag(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} expects a positive number`);
  return value;
}

/** Progress lines on stderr (stdout is the report), each with the probe's name and the time. */
export function probeLogger(name: string): (message: string) => void {
  return (message) => console.error(`[${name} ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** libpq connection parts of a harness server's URL (trust authentication: no password). */
export function connectionOf(url: string): PgConnection {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username || 'postgres'),
    database: decodeURIComponent(parsed.pathname.slice(1)),
  };
}

/** The server's `server_version` (for example `15.8`), to pick client tools of its major version. */
export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  } finally {
    await client.end();
  }
}
