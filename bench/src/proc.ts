import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of the CPU times in /proc/<pid>/stat. */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuTimes {
  /** CPU time of the process itself, user + system, in ms. */
  selfMs: number;
  /** CPU time of its children that have exited and been waited for, in ms. */
  childrenMs: number;
}

interface StatFields {
  ppid: number;
  cpu: CpuTimes;
}

/** Fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parens). */
function readStat(pid: number | 'self'): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const toMs = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  return {
    ppid: field(4),
    cpu: { selfMs: toMs(field(14) + field(15)), childrenMs: toMs(field(16) + field(17)) },
  };
}

export function cpuTimes(pid: number | 'self'): CpuTimes {
  return readStat(pid)?.cpu ?? { selfMs: 0, childrenMs: 0 };
}

/**
 * CPU time of a whole process tree (PostgreSQL's postmaster and its backends): exited backends
 * are folded into the postmaster's children time when it reaps them, so before/after differences
 * count every backend that ran in between.
 */
export function treeCpuMs(rootPid: number): number {
  const byParent = new Map<number, number[]>();
  const stats = new Map<number, StatFields>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    stats.set(Number(entry), stat);
    byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), Number(entry)]);
  }
  let total = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    const stat = stats.get(pid);
    if (stat) total += stat.cpu.selfMs + stat.cpu.childrenMs;
    queue.push(...(byParent.get(pid) ?? []));
  }
  return total;
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size (VmRSS) of a live process now, in bytes. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms (first line of /proc/stat). */
export function machineCpuMs(): { busyMs: number; totalMs: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const toMs = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  const busy = user + nice + system + irq + softirq + steal;
  return { busyMs: toMs(busy), totalMs: toMs(busy + idle + iowait) };
}

/** Processes by CPU used over the next `intervalMs`, busiest first, as "12% name". */
export async function busiestProcesses(intervalMs: number, exclude: number[], count = 5): Promise<string[]> {
  const snapshot = () => {
    const result = new Map<number, { name: string; ms: number }>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
        const stat = readStat(Number(entry));
        if (stat) result.set(Number(entry), { name, ms: stat.cpu.selfMs });
      } catch {
        // the process exited meanwhile
      }
    }
    return result;
  };
  const before = snapshot();
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const after = snapshot();
  return [...after.entries()]
    .filter(([pid]) => !exclude.includes(pid))
    .map(([pid, { name, ms }]) => ({ name, share: (ms - (before.get(pid)?.ms ?? ms)) / intervalMs }))
    .filter((entry) => entry.share > 0.01)
    .sort((a, b) => b.share - a.share)
    .slice(0, count)
    .map((entry) => `${Math.round(entry.share * 100)}% ${entry.name}`);
}
