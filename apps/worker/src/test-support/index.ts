/** What other packages' tests use of the worker: a configured worker in-process, and process helpers. */
export { backupInBucketOnly } from './bucket-only-backup.js';
export { dumpCopiedAndPruned, type OffsiteFixture, offsiteFixture } from './offsite-fixture.js';
export { type ServerTargetFixture, serverTargetFixture } from './server-target-fixture.js';
export { type VerifiedBackupOptions, writeVerifiedBackup } from './verified-backup.js';
export { type WebhookReceiver, webhookReceiver } from './webhook-receiver.js';
export { useWorkerFixtures, type WorkerFixture, workerFixture } from './worker-fixture.js';
export { descendantsOf, spawnWorker, type WorkerProcess } from './worker-process.js';
