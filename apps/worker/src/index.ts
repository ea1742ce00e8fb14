/** The worker app: the service that runs the queue's jobs. What the queue is, is @pgbackup/queue's. */
export { startWorkerService, type WorkerService, type WorkerServiceOptions } from './service.js';
