import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { BackupError, type BackupErrorCode } from '../errors.js';

const STDERR_TAIL_BYTES = 8 * 1024;

export interface ChildOptions {
  /** Complete environment of the child (secrets such as PGPASSWORD go here, never in args). */
  env: NodeJS.ProcessEnv;
  stdio: StdioOptions;
  /** Error code used when the child exits non-zero (unless `classify` picks another). */
  failureCode: BackupErrorCode;
  /** Maps the stderr text to a more precise code, e.g. authentication failures. */
  classify?: (stderr: string, signal: NodeJS.Signals | null) => BackupErrorCode | undefined;
  /** Run as this user and group (PostgreSQL's server binaries refuse root). Default: this process's. */
  uid?: number;
  gid?: number;
  /**
   * stderr lines that are information rather than a complaint (pg_restore --verbose): handed to
   * `onLine` and kept out of the stderr tail, so an error message still shows the error.
   */
  stderrLines?: { pattern: RegExp; onLine: (line: string) => void };
}

/** A child process whose exit status is always checked and whose stderr tail is kept for the error. */
export interface RunningChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves on exit 0; rejects with a BackupError naming the program, its status and stderr. */
  readonly finished: Promise<void>;
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs` if still running. */
  terminate(graceMs?: number): void;
}

export function startChild(
  name: string,
  file: string,
  args: readonly string[],
  options: ChildOptions,
): RunningChild {
  const child = spawn(file, args, {
    env: options.env,
    stdio: options.stdio,
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  let stderrText = '';
  let partialLine = '';
  const keep = (text: string) => {
    stderrText = (stderrText + text).slice(-STDERR_TAIL_BYTES);
  };
  const sortLines = (text: string, final: boolean) => {
    const { pattern, onLine } = options.stderrLines!;
    const lines = (partialLine + text).split('\n');
    partialLine = final ? '' : lines.pop()!;
    let kept = '';
    for (const [index, line] of lines.entries()) {
      if (pattern.test(line)) onLine(line);
      else kept += final && index === lines.length - 1 ? line : `${line}\n`;
    }
    keep(kept);
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (options.stderrLines ? sortLines(chunk, false) : keep(chunk)));
  let killTimer: NodeJS.Timeout | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      const code: BackupErrorCode = error.code === 'ENOENT' ? 'TOOL_MISSING' : options.failureCode;
      reject(
        new BackupError(code, `${name} could not be started (${file}): ${error.message}`, { cause: error }),
      );
    });
    child.once('close', (status, signal) => {
      if (killTimer) clearTimeout(killTimer);
      if (options.stderrLines && partialLine !== '') sortLines('', true);
      if (status === 0) return resolve();
      const stderr = stderrText.trim();
      const code = options.classify?.(stderr, signal) ?? options.failureCode;
      const how = signal ? `was killed by ${signal}` : `exited with status ${status}`;
      reject(
        new BackupError(code, `${name} ${how}${stderr ? `: ${stderr}` : ''}`, {
          details: { program: name, status, signal, stderr },
        }),
      );
    });
  });
  // Observed by whoever awaits it; this only keeps an early failure from being "unhandled".
  finished.catch(() => undefined);
  return {
    name,
    process: child,
    finished,
    stderr: () => stderrText,
    terminate(graceMs = 2_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, graceMs);
      killTimer.unref();
    },
  };
}

/**
 * Waits for `child` as `finished` does, terminating it (SIGTERM, then SIGKILL after half a
 * second) if `signal` aborts meanwhile: how a restore, a drill and a globals replay wait for
 * pg_restore or psql.
 */
export async function finishedOrTerminated(
  child: RunningChild,
  signal: AbortSignal | undefined,
): Promise<void> {
  const onAbort = () => child.terminate(500);
  signal?.addEventListener('abort', onAbort, { once: true });
  // An 'abort' that came before the listener never fires again.
  if (signal?.aborted) onAbort();
  try {
    await child.finished;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
