/**
 * Where a dump's wall time went, phase by phase. The run log gets one `timings (ms):` line per
 * dump, which `pnpm bench` reads to take the job's fixed cost apart (issue 18): on a small
 * database the phases around the stream are nearly all of the time.
 */
export const dumpPhases = [
  /** The catalog checked for a complete backup of the same id (a re-run of a finished job). */
  'lookup',
  /** Connection, repeatable-read transaction, exported snapshot, size estimate. */
  'snapshot',
  /** Finding the pg_dump to use and its version (cached in the process after its first job). */
  'probes',
  /** Backup directories created or checked (beside the snapshot, not added). */
  'directories',
  /** From starting pg_dump to the last stage exiting: the pipeline itself. */
  'stream',
  /** The exact row counts in the snapshot, which run beside the stream (not added to the total). */
  'counts',
  /** How long the dump still waited for the row counts after the stream ended. */
  'countsWait',
  /** The final fsync of the backup file (what the kernel had not written out yet). */
  'fsync',
  /** Reading the target's manifests for the size check (beside the stream, not added). */
  'catalog',
  /** Rename of the partial file and fsync of its directory. */
  'publish',
  /** The manifest, written atomically (file fsync, rename, directory fsync). */
  'manifest',
  /** The snapshot's transaction ended and its connection closed (beside the publishing, not added). */
  'close',
] as const;

export type DumpPhaseName = (typeof dumpPhases)[number];

export type DumpTimings = Partial<Record<DumpPhaseName, number>>;

/** Phases that overlap others: shown, never summed. */
const overlapping = new Set<DumpPhaseName>(['directories', 'counts', 'catalog', 'close']);

export class PhaseClock {
  readonly timings: DumpTimings = {};

  add(phase: DumpPhaseName, ms: number): void {
    this.timings[phase] = (this.timings[phase] ?? 0) + ms;
  }

  async time<T>(phase: DumpPhaseName, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(phase, performance.now() - started);
    }
  }

  /** `timings (ms): lookup 1, snapshot 12, ...`: the run log line `parseDumpTimings` reads back. */
  format(): string {
    const parts = dumpPhases
      .filter((phase) => this.timings[phase] !== undefined)
      .map((phase) => `${phase} ${Math.round(this.timings[phase]!)}`);
    const sum = dumpPhases
      .filter((phase) => !overlapping.has(phase))
      .reduce((total, phase) => total + (this.timings[phase] ?? 0), 0);
    return `timings (ms): ${parts.join(', ')}; sum ${Math.round(sum)} (without the phases that run beside others)`;
  }
}

/** The phases of a `timings (ms):` run log line, or undefined when the text has none. */
export function parseDumpTimings(text: string): DumpTimings | undefined {
  const line = /timings \(ms\): ([^;\n]*)/.exec(text)?.[1];
  if (line === undefined) return undefined;
  const timings: DumpTimings = {};
  for (const part of line.split(', ')) {
    const [name, value] = part.split(' ');
    if ((dumpPhases as readonly string[]).includes(name!)) timings[name as DumpPhaseName] = Number(value);
  }
  return timings;
}
