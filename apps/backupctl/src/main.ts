#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, exitCodes } from './exit-codes.js';
import { buildProgram } from './program.js';

// Only commander and the command definitions load at start; the modules that report errors (and
// the backup-core they use) load when there is one to report (see lazy-action.ts for why).
/** Runs backupctl with `argv` (as process.argv) and resolves to the exit status. */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (error) {
    const json = argv.includes('--json');
    if (error instanceof CommanderError) {
      // Commander has printed the message (with a suggestion); --help and --version exit 0.
      if (error.exitCode === 0) return exitCodes.ok;
      const { createOutput } = await import('./output.js');
      createOutput(json).document({
        error: { code: 'USAGE', message: error.message.replace(/^error: /, ''), exitCode: exitCodes.usage },
      });
      return exitCodes.usage;
    }
    const [{ reportError }, { createOutput }] = await Promise.all([
      import('./action.js'),
      import('./output.js'),
    ]);
    return reportError(
      createOutput(json),
      error instanceof Error ? error : new CliError('INTERNAL', String(error), 1),
    );
  }
}

const status = await main(process.argv);
// Wait for stdout to drain, then exit: a lingering timer or socket must not keep the CLI alive.
process.stdout.write('', () => process.exit(status));
