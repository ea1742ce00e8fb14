import { humanDuration, redactSecrets } from '@pgbackup/backup-core/catalog';

// One format on every surface: backup-core's human-format.ts.
export { humanBytes, humanDuration } from '@pgbackup/backup-core/catalog';

/**
 * What backupctl prints. Results go to stdout (a table or text, or exactly one JSON document
 * with --json); logs, hints and progress go to stderr, so `--json | jq` always parses.
 */
export interface Output {
  readonly json: boolean;
  /** Human text for stdout; ignored with --json. */
  text(line: string): void;
  /** The one JSON document of the command; ignored without --json. */
  document(value: unknown): void;
  /** A log line or hint for stderr, in both modes. */
  note(line: string): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  let documented = false;
  return {
    json,
    // Everything printed passes the URL redaction: an error from a library may quote a URL
    // the configuration never showed.
    text(line) {
      if (!json) stdout.write(`${redactSecrets(line)}\n`);
    },
    document(value) {
      if (!json || documented) return;
      documented = true;
      stdout.write(`${redactSecrets(JSON.stringify(value, null, 2))}\n`);
    },
    note(line) {
      stderr.write(`${redactSecrets(line)}\n`);
    },
  };
}

/** "3h ago" / "in 5m", from an ISO string or epoch ms. */
export function humanAge(at: string | number, now = Date.now()): string {
  const ms = now - (typeof at === 'number' ? at : Date.parse(at));
  return ms >= 0 ? `${humanDuration(ms)} ago` : `in ${humanDuration(-ms)}`;
}

/** ISO time without milliseconds, in UTC: sortable, and the same on every operator's screen. */
export function shortTime(at: string | number | Date): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A plain-text table: columns padded to their widest cell, the last column left ragged. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [format(headers), ...rows.map(format)].join('\n');
}
