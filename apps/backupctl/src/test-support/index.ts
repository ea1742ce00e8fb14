/** What other packages' tests use of backupctl: the built CLI as a process, and its JSON documents. */
export type { ErrorDocument } from '../action.js';
export type { DumpDocument } from '../commands/dump.js';
export type { RestoreDocument } from '../commands/restore.js';
export type { StatusDocument } from '../commands/status.js';
export type { VerifyDocument } from '../commands/verify.js';
export { type CliProcess, type CliResult, cliEntry, jsonOf, runCli, spawnCli } from './run-cli.js';
