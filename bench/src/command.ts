import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { cpuTimes, treeCpuMs } from './proc.js';
import type { Sample } from './sample.js';

export interface TimedCommand {
  program: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** File whose size is the archive size of the run. */
  output?: string;
  /** Captures stdout (for `wc -c`). */
  captureStdout?: boolean;
}

export interface TimedResult {
  sample: Sample;
  stdout: string;
}

/**
 * Runs a command to completion and reports its wall time and the CPU time of it and its
 * descendants (from this process's children time, which the kernel adds to when the command is
 * reaped) and of the PostgreSQL server. Fails with the stderr tail when it exits non-zero.
 */
export async function runTimed(command: TimedCommand, postmasterPid: number): Promise<TimedResult> {
  const cpuBefore = cpuTimes('self').childrenMs;
  const serverBefore = treeCpuMs(postmasterPid);
  const started = performance.now();
  const child = spawn(command.program, command.args, {
    env: command.env,
    stdio: ['ignore', command.captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  });
  const wallMs = performance.now() - started;
  if (code !== 0) {
    throw new Error(
      `${command.program} ${command.args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
    );
  }
  const sample: Sample = {
    wallMs,
    clientCpuMs: cpuTimes('self').childrenMs - cpuBefore,
    serverCpuMs: treeCpuMs(postmasterPid) - serverBefore,
  };
  if (command.output) sample.sizeBytes = (await stat(command.output)).size;
  return { sample, stdout };
}
