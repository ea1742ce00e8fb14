import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import type { Queue } from 'bullmq';
import { trackProcess, untrackProcess } from '../../test/harness/reaper.js';
import { waitFor } from '../../test/harness/wait.js';
import { cpuTimes, peakRssBytes } from './proc.js';

/** The real worker (`node apps/worker/dist/main.js`) as a separate process, as production runs it. */
export class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly logFile: string,
  ) {}

  /**
   * Starts the worker and waits until it is connected to its queue (listed by CLIENT LIST), so
   * its start-up is not part of the first job's time.
   */
  static async start(options: {
    entry: string;
    env: Record<string, string>;
    logFile: string;
    queue: Queue;
    nodeArgs?: string[];
  }): Promise<WorkerProcess> {
    const log = openSync(options.logFile, 'a');
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry], {
      env: options.env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    // If the bench dies without stopping it, the harness watchdog does (as it does the servers).
    trackProcess(`worker-${child.pid}`, child.pid!, 'TERM');
    const worker = new WorkerProcess(child, options.logFile);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitFor('the worker to connect to its queue', async () => {
      if (exited) throw new Error(`the worker exited at start: ${worker.logTail()}`);
      return (await options.queue.getWorkers()).length > 0;
    });
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** VmHWM: the most memory the worker has held resident since it started. */
  peakRssBytes(): number | undefined {
    return peakRssBytes(this.pid);
  }

  /**
   * Resets VmHWM to the current RSS (`5` into /proc/<pid>/clear_refs), so the next reading is the
   * peak of what runs in between. Returns the peak before the reset.
   */
  resetPeak(): number | undefined {
    const before = this.peakRssBytes();
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      // An old kernel: the readings stay lifetime peaks, still an upper bound.
    }
    return before;
  }

  /** CPU of the worker itself plus its exited children (pg_dump, zstd, pg_restore). */
  cpuMs(): number {
    const times = cpuTimes(this.pid);
    return times.selfMs + times.childrenMs;
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Graceful stop (SIGTERM: no running job here), SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      untrackProcess(`worker-${this.pid}`);
      return;
    }
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await done;
    clearTimeout(timer);
    untrackProcess(`worker-${this.pid}`);
  }
}
