import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { trackProcess, untrackProcess } from './reaper.js';
import { exited } from './wait.js';

/**
 * The running process of a test server, registered with the watchdog under `name` so it dies
 * with the test run, whatever happens to the run.
 */
export class TrackedChild {
  private child: ChildProcess | undefined;

  constructor(private readonly name: string) {}

  /** Takes charge of a freshly spawned server; `stopSignal` is what the watchdog sends it. */
  attach(child: ChildProcess, stopSignal: 'QUIT' | 'TERM' | 'KILL'): void {
    if (child.pid === undefined) throw new Error(`could not start ${this.name}`);
    this.child = child;
    trackProcess(this.name, child.pid, stopSignal);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Sends `signal` and waits for the process to exit; SIGKILL after `killAfterMs` if it has not.
   * A server may refuse a graceful stop (redis-server keeps running on SIGTERM when its final save
   * fails), and a test's cleanup must not hang on it.
   */
  async signalAndWait(signal: NodeJS.Signals, killAfterMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const escalation =
      signal === 'SIGKILL'
        ? undefined
        : setTimeout(() => {
            console.warn(`${this.name} did not exit within ${killAfterMs} ms of ${signal}; sending SIGKILL`);
            child.kill('SIGKILL');
          }, killAfterMs);
    await exited(child);
    clearTimeout(escalation);
    untrackProcess(this.name);
    this.child = undefined;
  }
}

/** The last lines of a server's log file, for error messages. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
