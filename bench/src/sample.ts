import type { DumpTimings } from '@pgbackup/backup-core';

/** One timed run of one measurement. */
export interface Sample {
  wallMs: number;
  /**
   * CPU time on the client side: pg_dump, the compressor, pg_restore, and for the worker rows the
   * worker process itself.
   */
  clientCpuMs: number;
  /** CPU time of the PostgreSQL server (every backend) during the run. */
  serverCpuMs: number;
  /** Size of the file written, when there is one. */
  sizeBytes?: number;
  /** VmHWM of the worker process, for the rows run through the worker. */
  peakRssBytes?: number;
  /** How long the `sync` right after the run took: what the run left for the kernel to write. */
  flushMs?: number;
  /** Worker rows: from enqueue until the worker took the job (BullMQ's timestamp to processedOn). */
  queueMs?: number;
  /** Worker rows: from the worker taking the job to its completion (processedOn to finishedOn). */
  processingMs?: number;
  /** The worker's own notion of the job's duration (manifest or verification durationMs). */
  jobMs?: number;
  /** Dump jobs: runDump's phases, from the `timings (ms):` line of the job's run log. */
  timings?: DumpTimings;
}

/** Every run of one row of the report. */
export interface Measurement {
  key: string;
  label: string;
  /** What runs, as a user would type it. */
  command: string;
  samples: Sample[];
}

export function addSample(
  measurements: Map<string, Measurement>,
  spec: Omit<Measurement, 'samples'>,
  sample: Sample,
): void {
  const existing = measurements.get(spec.key);
  if (existing) existing.samples.push(sample);
  else measurements.set(spec.key, { ...spec, samples: [sample] });
}
