import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBackups } from './specs/backups.js';
import { registerCopy } from './specs/copy.js';
import { registerDrill } from './specs/drill.js';
import { registerDump } from './specs/dump.js';
import { registerJobs } from './specs/jobs.js';
import { registerPrune } from './specs/prune.js';
import { registerRestore } from './specs/restore.js';
import { registerRestoreGlobals } from './specs/restore-globals.js';
import { registerRetry } from './specs/retry.js';
import { registerSchedules } from './specs/schedules.js';
import { registerStatus } from './specs/status.js';
import { registerVerify } from './specs/verify.js';

const epilog = `
Configuration is the worker's: flags > variables (DATABASE_URL, BACKUP_DIR, REDIS_URL, ...) >
the --config / BACKUP_CONFIG file > defaults.

With --json, stdout carries exactly one JSON document (an error is {"error": {code, message,
hint?, exitCode}}); logs, hints and progress go to stderr. Shapes: apps/backupctl/README.md.

Exit status:
  0    success
  1    the job or the check failed (a failed dump or verification, a stale or failing target)
  2    usage or configuration error (unknown command, flag, target or backup id; bad variable)
  3    Redis or PostgreSQL unreachable
  130  interrupted (Ctrl-C stops waiting; the job keeps running)

Examples:
  backupctl status
  backupctl dump --target app --wait
  backupctl backups --target app
  backupctl restore 20261125T020000123Z-app-1a2b3c --to app_copy --wait
`;

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(): Command {
  const program = new Command('backupctl')
    .description('Operate the PostgreSQL backup service: back up, verify, prune, restore, and check on it.')
    .version(packageVersion(), '-V, --version')
    .option('--config <file>', 'configuration file, JSON or YAML (BACKUP_CONFIG)')
    .option('--backup-dir <dir>', 'where backups and their manifests are (BACKUP_DIR)')
    .option('--redis-url <url>', 'Redis of the queue (REDIS_URL)')
    .option('--prefix <prefix>', 'BullMQ key prefix of the queue (BACKUP_QUEUE_PREFIX)')
    .option('--json', 'print one JSON document on stdout and nothing else')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .addHelpText('after', epilog);
  registerDump(program);
  registerVerify(program);
  registerCopy(program);
  registerPrune(program);
  registerRestore(program);
  registerDrill(program);
  registerRestoreGlobals(program);
  registerBackups(program);
  registerJobs(program);
  registerRetry(program);
  registerSchedules(program);
  registerStatus(program);
  return program;
}
