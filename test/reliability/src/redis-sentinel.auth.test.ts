import { createTestDatabase, SentinelTopology } from '@pgbackup/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackupctl } from './support/service-processes.js';
import { createStack, type Stack } from './support/stack.js';
import { spawnWorkerProcess } from './support/worker-process.js';

const dataPassword = 'Da7-distinctive-data-password';
const sentinelPassword = 'Se3-distinctive-sentinel-password';
let topology: SentinelTopology;
let stack: Stack;

beforeAll(async () => {
  topology = await SentinelTopology.start({ password: dataPassword, sentinelPassword });
  const db = await createTestDatabase('sauth');
  stack = await createStack({
    DATABASE_URL: db.url,
    REDIS_URL: '',
    REDIS_SENTINELS: topology.sentinelList,
    REDIS_SENTINEL_NAME: 'pgbackup',
    REDIS_PASSWORD: dataPassword,
    REDIS_SENTINEL_PASSWORD: sentinelPassword,
  });
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await topology?.destroy();
});

it.each([
  ['REDIS_SENTINEL_PASSWORD', 'sentinels'],
  ['REDIS_PASSWORD', 'data nodes'],
])(
  'a wrong %s (the %s refuse it): the worker stops with REDIS_AUTH_FAILED instead of waiting, backupctl exits 2; no password shown',
  async (variable) => {
    const env = { ...stack.env, [variable]: 'wrong-password-7f3' };
    const cli = await runBackupctl(['status'], env);
    expect(cli.code, cli.stderr).toBe(2);
    expect(cli.stderr).toContain('REDIS_AUTH_FAILED');
    const worker = spawnWorkerProcess(env);
    await Promise.race([
      worker.exited,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`worker still running: ${worker.output()}`)), 30_000),
      ),
    ]).finally(() => worker.kill());
    expect(worker.child.exitCode).not.toBe(0);
    expect(worker.output()).toContain('REDIS_AUTH_FAILED');
    expect(worker.output()).toContain(`sentinel://${topology.sentinelList}/pgbackup`);
    for (const output of [cli.stdout + cli.stderr, worker.output()]) {
      expect(output).not.toContain(dataPassword);
      expect(output).not.toContain(sentinelPassword);
      expect(output).not.toContain('wrong-password-7f3');
    }
  },
  60_000,
);
