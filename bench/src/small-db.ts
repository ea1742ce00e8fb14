import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { type PlainCommands, syncMs } from './baselines.js';
import { addSample, type Measurement, type Sample } from './sample.js';
import { WorkerSetup } from './worker-jobs.js';

/**
 * A fleet is mostly small databases, whose dump jobs are nearly all fixed cost (issue 18). This
 * measures one such database, the load test's (`test/reliability/src/load.schedule.load.test.ts`:
 * 300 customers and 1,000 orders, a backup of about 6.4 kB), with the dump job through the
 * worker against `pg_dump -Fc -Z0 | zstd -1` of the same database alone.
 */
export const SMALL_DATABASE = 'bench_small';
/** Pairs (pipeline, job) per round: each is a fraction of a second, so a round takes several. */
export const SMALL_PAIRS_PER_ROUND = 5;

export const smallRows = {
  piped: {
    key: 'small-piped',
    label: 'the shell pipeline, small database',
    command: 'bash -o pipefail -c "pg_dump -Fc -Z0 | zstd -1 -T0 > file"',
  },
  job: {
    key: 'small-job',
    label: 'the dump job through the worker, small database',
    command: 'enqueueDump(queue, { target }) until completed',
  },
} as const;

export interface SmallResult {
  measurements: Map<string, Measurement>;
  /** The worker's first job (pg_dump version probes, first connection to Redis's scripts): apart. */
  firstJob: Sample;
  sizeBytes: number;
  pairs: number;
}

export async function createSmallDatabase(adminUrl: string, urlOf: (db: string) => string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${SMALL_DATABASE}`);
    await admin.query(`CREATE DATABASE ${SMALL_DATABASE} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const client = new pg.Client({ connectionString: urlOf(SMALL_DATABASE) });
  await client.connect();
  try {
    await client.query(`
      CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 300) g;
      CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, amount numeric(10,2));
      INSERT INTO orders SELECT g, 1 + g % 300, g % 97 + 0.5 FROM generate_series(1, 1000) g;`);
    await client.query('VACUUM (FREEZE, ANALYZE)');
  } finally {
    await client.end();
  }
}

export async function measureSmallDatabase(context: {
  runs: number;
  urlOf: (db: string) => string;
  redisUrl: string;
  postmasterPid: number;
  plain: PlainCommands;
  workerEntry: string;
  workDir: string;
  log: (message: string) => void;
}): Promise<SmallResult> {
  const { plain, postmasterPid, log } = context;
  const url = context.urlOf(SMALL_DATABASE);
  const worker = await WorkerSetup.create({
    label: 'small',
    entry: context.workerEntry,
    workDir: path.join(context.workDir, 'small'),
    databaseUrl: url,
    redisUrl: context.redisUrl,
  });
  const measurements = new Map<string, Measurement>();
  try {
    const first = (await worker.dump(postmasterPid)).sample;
    first.flushMs = syncMs();
    log(`  first job of the small-database worker: ${first.wallMs.toFixed(0)} ms`);
    let sizeBytes = first.sizeBytes ?? 0;
    for (let round = 1; round <= context.runs; round++) {
      const walls: string[] = [];
      for (let pair = 0; pair < SMALL_PAIRS_PER_ROUND; pair++) {
        const piped = await plain.pipedDump(url);
        piped.flushMs = syncMs();
        addSample(measurements, smallRows.piped, piped);
        const job = (await worker.dump(postmasterPid)).sample;
        job.flushMs = syncMs();
        addSample(measurements, smallRows.job, job);
        sizeBytes = job.sizeBytes ?? sizeBytes;
        walls.push(`${piped.wallMs.toFixed(0)}/${job.wallMs.toFixed(0)}`);
      }
      log(`  small database, round ${round}/${context.runs} (pipeline/job ms): ${walls.join(' ')}`);
    }
    rmSync(plain.pipedFile, { force: true });
    return { measurements, firstJob: first, sizeBytes, pairs: SMALL_PAIRS_PER_ROUND };
  } finally {
    await worker.close();
  }
}
