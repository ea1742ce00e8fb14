import { spawnSync } from 'node:child_process';
import { listBackups, verifyBackup } from '@pgbackup/backup-core';
import { enqueueDump } from '@pgbackup/queue';
import { PostgresServer, runSql, waitFor } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogProblems } from './support/backup-dir.js';
import { createPrng, seedFromEnv } from './support/prng.js';
import { recordResults } from './support/results.js';
import { createStack, jobLog, type Stack } from './support/stack.js';
import { descendantsNamed } from './support/worker-process.js';

const ROUNDS = Number(process.env.RELIABILITY_PG_OUTAGES ?? 4);
const seed = seedFromEnv();
const TARGET = 'flaky';

let server: PostgresServer;
let stack: Stack | undefined;

beforeAll(async () => {
  server = await PostgresServer.start();
  await runSql(server.url('postgres'), 'CREATE DATABASE app');
  await runSql(
    server.url('app'),
    `CREATE TABLE stream AS SELECT g AS id, md5(g::text) || md5((g * 3)::text) AS v FROM generate_series(1, 400000) g`,
  );
});

afterAll(async () => {
  await stack?.cleanup();
  await server?.destroy();
});

/**
 * SIGKILL to the postmaster alone is no crash for a running dump: its backends finish their COPY
 * before they notice (seen here: the dump succeeded). Every backend goes down with it instead.
 */
async function crash(server: PostgresServer): Promise<void> {
  const backends = spawnSync('ps', ['-o', 'pid=', '--ppid', String(server.pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
  const killed = server.kill();
  for (const pid of backends) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await killed;
}

/** The code each attempt failed with, from the job log (`attempt n/N failed (...): CODE: ...`). */
function attemptCodes(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const match = /attempt \d+\/\d+ failed \([^)]*\): ([A-Z_]+): /.exec(line);
    return match ? [match[1]!] : [];
  });
}

it(`PostgreSQL stopped in the middle of ${ROUNDS} dumps: the attempt fails as PG_UNREACHABLE, is retried, and succeeds once the server is back (seed ${seed})`, async () => {
  console.log(`[postgres-outage] seed ${seed}`);
  const prng = createPrng(seed);
  stack = await createStack({
    DATABASE_URL: server.url('app'),
    BACKUP_TARGET_NAME: TARGET,
    BACKUP_ATTEMPTS: '10',
    BACKUP_BACKOFF: '500ms',
    BACKUP_VERIFY: 'read',
    BACKUP_RETENTION: 'daily=7,weekly=4,monthly=12,min=1000',
  });
  const worker = await stack.spawn();
  const rows: Array<Record<string, unknown>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Fast shutdown (what `systemctl stop` and a failover do) and a crash (every server process
    // SIGKILLed, as the OOM killer or a power cut would), in turn.
    const how = round % 2 === 0 ? 'stop' : 'crash';
    const afterMs = Math.round(prng.between(0, 200));
    const downMs = Math.round(prng.between(1_500, 3_000));
    const id = `outage-${round}`;
    await enqueueDump(stack.queue, { target: TARGET }, { jobId: id });
    await waitFor('pg_dump to run', async () => descendantsNamed(worker.pid, 'pg_dump').length > 0, 30_000);
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    const dumpStillRunning = descendantsNamed(worker.pid, 'pg_dump').length > 0;
    const stoppedAt = Date.now();
    if (how === 'stop') await server.stop();
    else await crash(server);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    const failedWhileDown = attemptCodes(await jobLog(stack.queue, id));
    const restartedAt = Date.now();
    await server.restart();
    const job = await stack.settle(id, 120_000);
    expect(await stack.queue.getJobState(id), job.failedReason).toBe('completed');
    const lines = await jobLog(stack.queue, id);
    const codes = attemptCodes(lines);
    const backupId = (job.returnvalue as { backupId: string }).backupId;
    expect(await stack.finished(`verify-${backupId}-read`, 60_000)).toBe('completed');
    expect(await stack.finished(`prune-after-${backupId}`, 60_000)).toBe('completed');
    expect(await catalogProblems(stack.config.backupDir)).toEqual([]);
    await verifyBackup({ backupDir: stack.config.backupDir, id: backupId, level: 'read', record: false });
    const firstFailure = lines.find((line) => / failed \(/.test(line)) ?? '';
    rows.push({
      round,
      how,
      afterMs,
      downMs,
      dumpStillRunning,
      failedWhileDown,
      codes,
      attempts: lines.filter((line) => line.includes('started on')).length,
      recoveredAfterRestartMs: job.finishedOn! - stoppedAt - downMs,
      firstFailure: firstFailure.slice(0, 400),
    });
    console.log(`[postgres-outage] ${JSON.stringify(rows.at(-1))}`);
    if (dumpStillRunning && codes.length === 0) {
      // pg_dump was about to end when the server went down, and ended first (seen once: finished
      // 164 ms after the SIGKILLs, long before the restart). No attempt failed, and the backup is
      // the whole one: verified above at the read level, with the catalog clean.
      expect(job.finishedOn!).toBeLessThan(restartedAt);
    } else if (dumpStillRunning) {
      // An outage while pg_dump streams: its connection is cut, libpq says so, the code says retry.
      expect(codes[0]).toBe('PG_UNREACHABLE');
    }
    // Whatever the first failure, none of them is a code that would have given up.
    for (const code of codes) expect(['PG_UNREACHABLE', 'DUMP_FAILED']).toContain(code);
  }
  const listing = await listBackups(stack.config.backupDir, { target: TARGET });
  expect(listing.entries).toHaveLength(ROUNDS);
  const codeCounts: Record<string, number> = {};
  for (const row of rows)
    for (const code of row.codes as string[]) codeCounts[code] = (codeCounts[code] ?? 0) + 1;
  recordResults('postgres-outage', {
    seed,
    rounds: ROUNDS,
    backups: listing.entries.length,
    codeCounts,
    rows,
  });
}, 600_000);
