import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The .cpuprofile format `node --cpu-prof` writes (times in microseconds of the monotonic clock). */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  /** The callers that spent the most of this function's time, innermost first. */
  calledFrom: string;
  selfMs: number;
  /** Share of the window. */
  share: number;
}

export interface ProfileSummary {
  /** Length of the window: the job, from enqueue to completion. */
  windowMs: number;
  /** Time the worker's main thread was on the CPU in the window: everything but (idle). */
  busyMs: number;
  top: ProfileEntry[];
}

/** `process.hrtime` in microseconds: the clock the profile's timestamps use. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  const file = url.replace(/^file:\/\//, '');
  const short = file.includes('/node_modules/')
    ? file.slice(file.lastIndexOf('/node_modules/') + '/node_modules/'.length)
    : file.split('/').slice(-3).join('/');
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
}

/**
 * Self time by function of the newest .cpuprofile in `dir` (written by `node --cpu-prof` when
 * the worker exits), counting only the samples taken between `startUs` and `endUs`.
 */
export function summarizeProfile(
  dir: string,
  startUs: number,
  endUs: number,
  top = 12,
): ProfileSummary | undefined {
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .pop();
  if (!newest) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, newest), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const callers = (id: number) => {
    const chain: string[] = [];
    for (
      let parent = parentOf.get(id);
      parent !== undefined && chain.length < 3;
      parent = parentOf.get(parent)
    ) {
      const node = byId.get(parent)!;
      if (node.callFrame.functionName === '(root)') break;
      chain.push(frameName(node));
    }
    return chain.join(' < ');
  };
  const selfUs = new Map<string, number>();
  // Per function, the time of each distinct caller chain: the heaviest one is shown.
  const byCaller = new Map<string, Map<string, number>>();
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    const node = byId.get(id);
    if (!node || at < startUs || at > endUs) return;
    const name = frameName(node);
    selfUs.set(name, (selfUs.get(name) ?? 0) + delta);
    const chains = byCaller.get(name) ?? new Map<string, number>();
    const chain = callers(id);
    chains.set(chain, (chains.get(chain) ?? 0) + delta);
    byCaller.set(name, chains);
  });
  const windowMs = (endUs - startUs) / 1000;
  const busyMs = [...selfUs.entries()]
    .filter(([name]) => name !== '(idle)')
    .reduce((sum, [, us]) => sum + us / 1000, 0);
  const entries = [...selfUs.entries()]
    .map(([name, us]) => ({
      name,
      calledFrom:
        [...(byCaller.get(name) ?? new Map<string, number>()).entries()].sort(
          (a, b) => b[1] - a[1],
        )[0]?.[0] ?? '',
      selfMs: us / 1000,
      share: us / 1000 / windowMs,
    }))
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top);
  return { windowMs, busyMs, top: entries };
}
