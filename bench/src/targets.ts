import type { SizeResult } from './measure-size.js';
import type { Measurement } from './sample.js';
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

/** Median of the per-round ratios: each round's row against the same round's reference. */
function pairedRatio(m: Map<string, Measurement>, key: string, referenceKey: string): number | undefined {
  const values = m.get(key)?.samples ?? [];
  const references = m.get(referenceKey)?.samples ?? [];
  const ratios = values.flatMap((sample, index) => {
    const reference = references[index];
    return reference ? [sample.wallMs / reference.wallMs] : [];
  });
  return summarize(ratios)?.median;
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
  const paired = pairedRatio(m, key, referenceKey);
  const pairedText =
    paired === undefined || (m.get(key)?.samples.length ?? 0) < 2
      ? ''
      : `; per-round ratios: median ${paired.toFixed(2)}x`;
  return {
    target,
    measured: `${ratio(value, reference)} (${seconds(value)} vs ${seconds(reference)}${pairedText})`,
    met: value <= reference * limit,
  };
}

/** The targets, judged on the medians at the chosen size. */
export function checkTargets(
  full: SizeResult,
  quarter: SizeResult | undefined,
  pruneMedians: number[],
): TargetCheck[] {
  const m = full.measurements;
  const fullRss = peakRss(full);
  const quarterRss = peakRss(quarter);
  const prune = pruneMedians.length > 0 ? Math.max(...pruneMedians) : undefined;
  return [
    withinRatio('dump job <= 0.4x plain `pg_dump -Fc` (1)', m, 'job', 'plain', 0.4),
    withinRatio('dump job <= 1.15x `pg_dump -Z0 | zstd -1` (2)', m, 'job', 'piped', 1.15),
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
    {
      target: 'prune planning over 100,000 manifests < 1 s',
      measured: prune === undefined ? 'n/a' : `${seconds(prune)} (median, slower time zone)`,
      met: prune === undefined ? undefined : prune < 1_000,
    },
  ];
}
