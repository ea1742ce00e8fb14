import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { busiestProcesses } from './proc.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  postgres: string;
  pgDump: string;
  zstd: string;
  node: string;
  openssl: string;
}

function firstLine(program: string, args: string[]): string {
  try {
    return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(postgresVersion: string, pgDumpPath: string): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    postgres: postgresVersion,
    pgDump: firstLine(pgDumpPath, ['--version']),
    zstd: firstLine('zstd', ['--version']).replace(/^\*+\s*|\s*\*+$/g, ''),
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
  };
}

export interface Load {
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  /** Processes other than this one by CPU over one second. */
  busiest: string[];
}

/** Whether other work shares the machine: load averages and the busiest other processes. */
export async function machineLoad(): Promise<Load> {
  const busiest = await busiestProcesses(1_000, [process.pid]);
  return { loadavg: os.loadavg().map((value) => Math.round(value * 100) / 100), busiest };
}
