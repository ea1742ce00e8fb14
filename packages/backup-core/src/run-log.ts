import fs from 'node:fs/promises';
import path from 'node:path';
import { BackupError } from './errors.js';
import { redactSecrets } from './redact.js';
import { ensurePrivateDirectory, writeError } from './storage/durable-fs.js';

/**
 * One human-readable log file per run in the log directory, `<target>_<timestamp>.log`, whose
 * last line is `STATUS: SUCCESS` or `STATUS: ERROR <code>: <message>`: what an operator greps.
 */
export class RunLog {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}

  /** Fails with WRITE_FAILED (or DISK_FULL) naming the directory when the log cannot be created. */
  static async open(logDir: string, target: string, kind: string, at = new Date()): Promise<RunLog> {
    try {
      return await RunLog.create(logDir, target, kind, at);
    } catch (error) {
      throw writeError(error, `a run log in the log directory ${path.resolve(logDir)} (BACKUP_LOG_DIR)`);
    }
  }

  private static async create(logDir: string, target: string, kind: string, at: Date): Promise<RunLog> {
    await ensurePrivateDirectory(logDir);
    const stamp = at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const suffix = kind === 'dump' ? '' : `_${kind}`;
    const base = path.join(logDir, `${target}_${stamp}${suffix}`);
    // Two runs of a target in the same second (a retry) get their own files.
    for (let n = 0; ; n++) {
      const file = n === 0 ? `${base}.log` : `${base}.${n}.log`;
      try {
        return new RunLog(file, await fs.open(file, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw error;
      }
    }
  }

  async line(message: string): Promise<void> {
    await this.handle.appendFile(`${new Date().toISOString()} ${redactSecrets(message)}\n`);
  }

  async succeed(summary: string): Promise<void> {
    await this.line(summary);
    await this.close('STATUS: SUCCESS');
  }

  async fail(error: unknown): Promise<void> {
    const code = error instanceof BackupError ? error.code : 'INTERNAL';
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
    await this.close(`STATUS: ERROR ${code}: ${message}`);
  }

  private async close(status: string): Promise<void> {
    try {
      await this.line(status);
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }
}
