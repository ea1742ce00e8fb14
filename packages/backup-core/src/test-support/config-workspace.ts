import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../config/index.js';
import { type BackupError, type BackupErrorCode, isBackupError } from '../errors.js';

export interface ConfigWorkspace {
  /** A temporary directory for the file's files (removed after the test file), relative paths' base. */
  readonly dir: string;
  /** loadConfig with `base` under `env`, relative to `dir`. */
  load(env: Record<string, string | undefined>): ReturnType<typeof loadConfig>;
}

/**
 * What the configuration tests share: a temporary directory created before the file's tests and
 * removed after them, and a loader with the file's base variables. Call at the top of a test file.
 */
export function configWorkspace(name: string, base: Record<string, string> = {}): ConfigWorkspace {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), `config-${name}-`));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const workspace: ConfigWorkspace = {
    get dir() {
      if (!dir) throw new Error('configWorkspace: the directory exists only while the tests run');
      return dir;
    },
    load: (env) => loadConfig({ env: { ...base, ...env }, cwd: workspace.dir }),
  };
  return workspace;
}

/**
 * The BackupError `run` throws, of `code` when given; fails when it throws none, and rethrows any
 * other error.
 */
export function backupErrorOf(run: () => unknown, code?: BackupErrorCode): BackupError {
  try {
    run();
  } catch (error) {
    if (isBackupError(error, code)) return error;
    throw error;
  }
  throw new Error(`expected ${code ?? 'a BackupError'}`);
}

/** The message of the CONFIG_INVALID (or other BackupError) `run` throws; fails when it throws none. */
export function problemsOf(run: () => unknown): string {
  return backupErrorOf(run).message;
}
