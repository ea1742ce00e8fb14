import type { Command } from 'commander';
import { classifyError } from './classify-error.js';
import { CliContext, type GlobalOptions } from './context.js';
import { Interrupted } from './exit-codes.js';
import type { Output } from './output.js';

/** A command's body: returns its exit status (0 when it returns nothing). */
export type Handler<A extends unknown[]> = (ctx: CliContext, ...args: A) => Promise<number | undefined>;

/**
 * Wraps a command for commander: builds its context from the global options, turns any error
 * into a message and an exit status, and always closes Redis so the process can exit.
 */
export function action<A extends unknown[]>(handler: Handler<A>): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    const command = args.at(-1) as Command;
    const ctx = new CliContext(command.optsWithGlobals() as GlobalOptions);
    try {
      process.exitCode = (await handler(ctx, ...(args.slice(0, -1) as A))) ?? 0;
    } catch (error) {
      process.exitCode = reportError(ctx.out, error);
    } finally {
      await ctx.close();
    }
  };
}

/** What --json prints when a command fails before producing its own document. */
export interface ErrorDocument {
  error: { code: string; message: string; hint?: string; jobId?: string; exitCode: number };
}

/** Prints the error (stderr, and as the JSON document with --json); returns the exit status. */
export function reportError(out: Output, error: unknown): number {
  const reported = classifyError(error);
  if (error instanceof Interrupted) {
    out.note('');
    out.note(
      error.jobId
        ? `Stopped waiting. Job ${error.jobId} goes on in the queue: Ctrl-C never cancels a job. ` +
            'Follow it with `backupctl jobs --state active`.'
        : 'Interrupted.',
    );
  } else {
    out.note(`backupctl: ${reported.code}: ${reported.message}`);
    if (reported.hint) out.note(`hint: ${reported.hint}`);
  }
  const document: ErrorDocument = {
    error: {
      code: reported.code,
      message: reported.message,
      ...(reported.hint ? { hint: reported.hint } : {}),
      ...(error instanceof Interrupted && error.jobId ? { jobId: error.jobId } : {}),
      exitCode: reported.exitCode,
    },
  };
  out.document(document);
  return reported.exitCode;
}
