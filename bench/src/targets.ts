import type { SizeResult } from './measure-size.js';
import type { Measurement } from './sample.js';
import { type SmallResult, smallRows } from './small-db.js';
import { megabytes, ratio, seconds, summarize } from './stats.js';

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

const MB = 1024 * 1024;
const RSS_LIMIT = 150 * MB;
/** Peak RSS at the full size may exceed the quarter size's by this much and still count as flat. */
const RSS_GROWTH_ALLOWED = 0.15;

function median(measurements: Map<string, Measurement>, key: string): number | undefined {
  return summarize(measurements.get(key)?.samples.map((sample) => sample.wallMs) ?? [])?.median;
}

/** The highest VmHWM of any worker process at this size: over its whole life, start-up included. */
function peakRss(result: SizeResult | undefined): number | undefined {
  if (!result) return undefined;
  const peaks = [
    ...Object.values(result.workerPeaks),
    ...[...result.measurements.values()].flatMap((m) => m.samples.map((sample) => sample.peakRssBytes)),
  ].filter((peak): peak is number => peak !== undefined);
  return peaks.length > 0 ? Math.max(...peaks) : undefined;
}

type Sample = Measurement['samples'][number];

/**
 * Median of the per-round ratios: each round's row against the same round's reference, measured
 * by `referenceMs` (its wall time, or its wall time and the sync after it).
 */
function pairedRatio(
  m: Map<string, Measurement>,
  key: string,
  referenceKey: string,
  referenceMs: (sample: Sample) => number = (sample) => sample.wallMs,
): number | undefined {
  const values = m.get(key)?.samples ?? [];
  const references = m.get(referenceKey)?.samples ?? [];
  const ratios = values.flatMap((sample, index) => {
    const reference = references[index];
    return reference ? [sample.wallMs / referenceMs(reference)] : [];
  });
  return summarize(ratios)?.median;
}

/** The per-round text of a target, when there are rounds enough to pair. */
function pairedText(paired: number | undefined, rounds: number): string {
  return paired === undefined || rounds < 2 ? '' : `; per-round ratios: median ${paired.toFixed(2)}x`;
}

function withinRatio(
  target: string,
  m: Map<string, Measurement>,
  key: string,
  referenceKey: string,
  limit: number,
): TargetCheck {
  const value = median(m, key);
  const reference = median(m, referenceKey);
  if (value === undefined || reference === undefined) return { target, measured: 'n/a', met: undefined };
  const paired = pairedText(pairedRatio(m, key, referenceKey), m.get(key)?.samples.length ?? 0);
  return {
    target,
    measured: `${ratio(value, reference)} (${seconds(value)} vs ${seconds(reference)}${paired})`,
    met: value <= reference * limit,
  };
}

/** A row against its reference plus the `sync` that followed the reference (what it left unwritten). */
function withinFlushedRatio(
  target: string,
  m: Map<string, Measurement>,
  key: string,
  referenceKey: string,
  limit: number,
): TargetCheck {
  const value = median(m, key);
  const withSync = (sample: Sample) => sample.wallMs + (sample.flushMs ?? 0);
  const flushed = summarize((m.get(referenceKey)?.samples ?? []).map(withSync))?.median;
  if (value === undefined || flushed === undefined) return { target, measured: 'n/a', met: undefined };
  const paired = pairedText(pairedRatio(m, key, referenceKey, withSync), m.get(key)?.samples.length ?? 0);
  return {
    target,
    measured: `${ratio(value, flushed)} (${seconds(value)} vs ${seconds(flushed)}${paired})`,
    met: value <= flushed * limit,
  };
}

/** Issue 18's targets: the dump job's cost beyond the pipeline, on both datasets and a small database. */
function fixedCostTargets(result: SizeResult): TargetCheck[] {
  const m = result.measurements;
  const on = `${result.kind} rows, ${result.sizeMb} MB`;
  return [
    withinRatio(`dump job <= 1.10x \`pg_dump -Z0 | zstd -1\` (2), ${on}`, m, 'job', 'piped', 1.1),
    withinFlushedRatio(`dump job <= 1.05x (2) followed by \`sync\`, ${on}`, m, 'job', 'piped', 1.05),
    withinRatio(
      `verify \`read\` <= 1.10x \`zstd -dc | pg_restore -f /dev/null\` (5c), ${on}`,
      m,
      'verify-read',
      'read-piped',
      1.1,
    ),
  ];
}

/** The targets, judged on the medians at the chosen size. */
export function checkTargets(
  sizes: SizeResult[],
  small: SmallResult | undefined,
  pruneMedians: number[],
): TargetCheck[] {
  const mixed = sizes.filter((result) => result.kind === 'mixed');
  const full = mixed.at(-1);
  const quarter = mixed.length > 1 ? mixed[0] : undefined;
  const narrow = sizes.filter((result) => result.kind === 'narrow').at(-1);
  const checks: TargetCheck[] = [];
  if (full) checks.push(...mixedTargets(full, quarter), ...fixedCostTargets(full));
  if (narrow) checks.push(...fixedCostTargets(narrow));
  if (small) {
    checks.push(
      withinRatio(
        'small database (6.4 kB backup): dump job <= 1.5x `pg_dump -Fc -Z0 | zstd -1`',
        small.measurements,
        smallRows.job.key,
        smallRows.piped.key,
        1.5,
      ),
    );
  }
  const prune = pruneMedians.length > 0 ? Math.max(...pruneMedians) : undefined;
  checks.push({
    target: 'prune planning over 100,000 manifests < 1 s',
    measured: prune === undefined ? 'n/a' : `${seconds(prune)} (median, slower time zone)`,
    met: prune === undefined ? undefined : prune < 1_000,
  });
  return checks;
}

function mixedTargets(full: SizeResult, quarter: SizeResult | undefined): TargetCheck[] {
  const m = full.measurements;
  const fullRss = peakRss(full);
  const quarterRss = peakRss(quarter);
  return [
    withinRatio('dump job <= 0.4x plain `pg_dump -Fc` (1)', m, 'job', 'plain', 0.4),
    withinRatio('encrypted dump job <= 1.3x (2)', m, 'job-enc', 'piped', 1.3),
    {
      target: `worker peak RSS < 150 MB at ${full.sizeMb} MB`,
      measured: megabytes(fullRss),
      met: fullRss === undefined ? undefined : fullRss < RSS_LIMIT,
    },
    {
      target: `worker peak RSS flat: at ${full.sizeMb} MB at most ${RSS_GROWTH_ALLOWED * 100}% above ${quarter?.sizeMb ?? '1/4'} MB`,
      measured:
        fullRss === undefined || quarterRss === undefined
          ? 'not measured (--no-quarter)'
          : `${megabytes(fullRss)} vs ${megabytes(quarterRss)} (${fullRss >= quarterRss ? '+' : ''}${(((fullRss - quarterRss) / quarterRss) * 100).toFixed(1)}%)`,
      met:
        fullRss === undefined || quarterRss === undefined
          ? undefined
          : fullRss <= quarterRss * (1 + RSS_GROWTH_ALLOWED),
    },
    withinRatio('verify `read` <= 1.2x `pg_restore -f /dev/null` (5b)', m, 'verify-read', 'read-plain', 1.2),
  ];
}
