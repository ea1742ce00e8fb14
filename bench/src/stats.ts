/** Median and spread of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, count: sorted.length };
}

export function seconds(ms: number): string {
  if (ms < 0) return `-${seconds(-ms)}`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** `6.21 s (6.02-6.40)`: the median, then min-max when there was more than one run. */
export function timeWithSpread(summary: Summary | undefined): string {
  if (!summary) return 'n/a';
  if (summary.count === 1) return seconds(summary.median);
  return `${seconds(summary.median)} (${seconds(summary.min)}-${seconds(summary.max)})`;
}

export function megabytes(bytes: number | undefined): string {
  if (bytes === undefined) return 'n/a';
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(bytes < 100 * 1024 * 1024 ? 1 : 0)} MB`;
}

export function ratio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined || reference === 0) return 'n/a';
  return `${(value / reference).toFixed(2)}x`;
}
