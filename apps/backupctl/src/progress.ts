import { humanBytes, humanDuration } from './output.js';

/** What one moment of a job looks like to the operator. */
export interface ProgressView {
  /** `dump app`, `verify app`, ... */
  label: string;
  /** `waiting`, `dumping`, `verify:read`, `restore:swapping`, ... */
  phase: string;
  /** Bytes written so far, when the job reports them. */
  bytes?: number;
  /** 0..100, when the job can estimate it. */
  percent?: number;
}

export interface ProgressReporter {
  update(view: ProgressView): void;
  /** A line that stays (an attempt failed, a step finished), printed above the bar. */
  note(line: string): void;
  /** Ends the bar's line (TTY) so the next output starts on a clean line. */
  finish(): void;
}

export interface ProgressOptions {
  /** Redraw one line in place (a terminal) or print plain lines (a log file, a pipe). Default: stream.isTTY. */
  tty?: boolean;
  /** Without a terminal, a line is printed on each phase change and at least this often. Default 5 s. */
  lineIntervalMs?: number;
  now?: () => number;
}

const barWidth = 24;

/**
 * Progress on stderr. On a terminal a single line is redrawn in place (phase, bar, percent,
 * bytes, rate); elsewhere plain lines, one per phase change or every few seconds, so a cron
 * mail or CI log stays readable instead of filling with carriage returns.
 */
export function createProgress(stream: NodeJS.WriteStream, options: ProgressOptions = {}): ProgressReporter {
  const tty = options.tty ?? stream.isTTY === true;
  const lineIntervalMs = options.lineIntervalMs ?? 5_000;
  const now = options.now ?? Date.now;
  let drawn = false;
  let lastKey = '';
  let lastLineAt = 0;
  let phaseStartedAt = now();
  // Rate over a sliding window of samples, so one slow second does not make the rate jump.
  let samples: Array<{ at: number; bytes: number }> = [];

  const rate = (view: ProgressView): number | undefined => {
    if (view.bytes === undefined) return undefined;
    const at = now();
    samples.push({ at, bytes: view.bytes });
    samples = samples.filter((sample) => at - sample.at <= 10_000);
    const first = samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds >= 0.5 ? Math.max(0, (view.bytes - first.bytes) / seconds) : undefined;
  };

  const describe = (view: ProgressView, bytesPerSecond: number | undefined, withBar: boolean): string => {
    const parts = [view.label, view.phase.padEnd(withBar ? 10 : 0)];
    if (view.percent !== undefined) {
      const percent = Math.max(0, Math.min(100, Math.round(view.percent)));
      if (withBar) {
        const filled = Math.round((percent / 100) * barWidth);
        parts.push(`[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`);
      }
      parts.push(`${String(percent).padStart(withBar ? 3 : 0)}%`);
    }
    if (view.bytes !== undefined && view.bytes > 0) parts.push(humanBytes(view.bytes));
    if (bytesPerSecond !== undefined && bytesPerSecond > 0)
      parts.push(`${humanBytes(Math.round(bytesPerSecond))}/s`);
    if (view.percent === undefined && view.phase !== 'done')
      parts.push(`(${humanDuration(now() - phaseStartedAt)})`);
    return parts.filter((part) => part !== '').join('  ');
  };

  const clear = () => {
    if (tty && drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };

  return {
    update(view) {
      const key = `${view.label}|${view.phase}`;
      const changed = key !== lastKey;
      if (changed) {
        lastKey = key;
        phaseStartedAt = now();
        samples = [];
      }
      const bytesPerSecond = rate(view);
      if (tty) {
        const columns = stream.columns || 100;
        const line = describe(view, bytesPerSecond, true).slice(0, columns - 1);
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
        return;
      }
      if (changed || now() - lastLineAt >= lineIntervalMs) {
        lastLineAt = now();
        stream.write(`${describe(view, bytesPerSecond, false)}\n`);
      }
    },
    note(line) {
      clear();
      stream.write(`${line}\n`);
    },
    finish() {
      // The last state stays on screen: the final bar is the record of what was done.
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
